// The iris pipeline with its training step written in Python (train.py beside this file):
// ETL, evaluation, gate and registration are the same TypeScript steps as the iris example's.
//   mlops train pipeline/examples/python/pipeline.ts
import { definePipeline, param, type ParamValues, type Step } from '../../sdk';
import { evaluate } from '../../steps/evaluate';
import { gate, gateParams } from '../../steps/gate';
import { register } from '../../steps/register';
import { irisEtl, softmaxParams, splitParams } from '../iris/pipeline';

/** The params of a softmax regression trained in Python, besides data and model (the notebook example has them too). */
export const pythonTrainingParams = { ...splitParams, ...softmaxParams, ...gateParams };

type AroundParams = ParamValues<typeof pythonTrainingParams> & { data: string; model: string };

/** The TypeScript steps around a `train` step written in Python: the iris ETL before it; evaluation, gate and registration after. */
export function aroundPythonTraining<P extends AroundParams>(train: Step<P>): Record<string, Step<P>> {
  return {
    etl: {
      run: (ctx) => irisEtl(ctx, 0.05),
    },
    train: { needs: ['etl'], ...train },
    evaluate: { needs: ['train'], run: (ctx) => evaluate(ctx) },
    gate: { needs: ['evaluate'], run: (ctx) => gate(ctx, ctx.params) },
    register: { needs: ['gate'], run: (ctx) => register(ctx, ctx.params.model) },
  };
}

const params = {
  data: param.path('../iris/iris_dataset.csv'),
  model: param.string('iris-python'),
  python: param.string('python3', 'Python interpreter with numpy and onnx'),
  ...pythonTrainingParams,
};

export default definePipeline({
  name: 'iris-python',
  description: 'The iris example, trained by a Python command step',
  params,
  steps: aroundPythonTraining<ParamValues<typeof params>>({
    command: (p) => [p.python, '{pipelineDir}/train.py'],
    // train.py is hashed as the command's file; the module it imports must be named for the step cache to see it change.
    inputs: ['softmax_onnx.py'],
    produces: ['model.onnx', 'expected_labels.json'],
  }),
});
