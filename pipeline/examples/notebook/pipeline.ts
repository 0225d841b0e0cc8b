// The iris pipeline with its training in a Jupyter notebook (train.ipynb beside this file): the ETL,
// evaluation, gate and registration are the iris example's TypeScript steps. The notebook runs in a
// Jupyter kernel (Debian: python3-nbclient python3-ipykernel python3-numpy python3-pandas python3-onnx).
//   mlops train pipeline/examples/notebook/pipeline.ts --param epochs=500
import { definePipeline, param } from '../../sdk';
import { evaluate } from '../../steps/evaluate';
import { gate, gateParams } from '../../steps/gate';
import { register } from '../../steps/register';
import { irisEtl, softmaxParams, splitParams } from '../iris/pipeline';

export default definePipeline({
  name: 'iris-notebook',
  description: 'The iris example, trained by a notebook step',
  params: {
    data: param.path('../iris/iris_dataset.csv'),
    model: param.string('iris-notebook'),
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
      notebook: 'train.ipynb',
      produces: ['model.onnx', 'expected_labels.json'],
      timeoutSec: 300,
      description: 'softmax regression with numpy and pandas, exported with the onnx package',
    },
    evaluate: { needs: ['train'], run: (ctx) => evaluate(ctx) },
    gate: { needs: ['evaluate'], run: (ctx) => gate(ctx, ctx.params) },
    register: { needs: ['gate'], run: (ctx) => register(ctx, ctx.params.model) },
  },
});
