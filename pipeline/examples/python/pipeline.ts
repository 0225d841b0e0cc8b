// The iris pipeline with its training step written in Python (train.py beside this file):
// ETL, evaluation, gate and registration are the same TypeScript steps as the iris example's.
//   mlops train pipeline/examples/python/pipeline.ts
import { definePipeline, param } from '../../sdk';
import { evaluate } from '../../steps/evaluate';
import { gate, gateParams } from '../../steps/gate';
import { register } from '../../steps/register';
import { irisEtl, softmaxParams, splitParams } from '../iris/pipeline';

export default definePipeline({
  name: 'iris-python',
  description: 'The iris example, trained by a Python command step',
  params: {
    data: param.path('../iris/iris_dataset.csv'),
    model: param.string('iris-python'),
    python: param.string('python3', 'Python interpreter with numpy and onnx'),
    ...splitParams,
    ...softmaxParams,
    ...gateParams,
  },
  steps: {
    etl: {
      run: (ctx) => irisEtl(ctx, 0.05),
    },
    train: {
      needs: ['etl'],
      command: (p) => [p.python, '{pipelineDir}/train.py'],
      produces: ['model.onnx', 'expected_labels.json'],
    },
    evaluate: { needs: ['train'], run: (ctx) => evaluate(ctx) },
    gate: { needs: ['evaluate'], run: (ctx) => gate(ctx, ctx.params) },
    register: { needs: ['gate'], run: (ctx) => register(ctx, ctx.params.model) },
  },
});
