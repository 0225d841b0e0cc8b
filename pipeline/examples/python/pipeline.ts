// The iris pipeline with its training step written in Python (train.py beside this file):
// ETL, evaluation, gate and registration are the same TypeScript steps as the iris example's.
//   mlops train pipeline/examples/python/pipeline.ts
import { definePipeline, param } from '../../sdk';
import { etl } from '../../steps/etl';
import { evaluate } from '../../steps/evaluate';
import { gate, gateParams } from '../../steps/gate';
import { register } from '../../steps/register';

export default definePipeline({
  name: 'iris-python',
  description: 'The iris example, trained by a Python command step',
  params: {
    data: param.path('../iris/iris_dataset.csv'),
    model: param.string('iris-python'),
    python: param.string('python3', 'Python interpreter with numpy and onnx'),
    seed: param.int(42),
    testSize: param.number(0.2, { min: 0.05, max: 0.9 }),
    epochs: param.int(2000, { min: 1 }),
    learningRate: param.number(0.1, { min: 0 }),
    l2: param.number(0.001, { min: 0 }),
    ...gateParams,
  },
  steps: {
    etl: {
      run: (ctx) =>
        etl(ctx, {
          file: ctx.params.data,
          features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
          target: 'variety',
          testSize: ctx.params.testSize,
          seed: ctx.params.seed,
          maxBadRowShare: 0.05,
        }),
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
