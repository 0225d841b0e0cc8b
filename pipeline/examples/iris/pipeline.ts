// The embedded example: the original template's iris pipeline (ETL → train → export → evaluate →
// gate → register). To train on a CSV of your own, copy this file and change the column names
// below (and the data path): the column types (number, true/false, text) and the task
// (classification or regression) are read from the data. `mlops train path/to/it.ts`.
import { definePipeline, param, type StepContext } from '../../sdk';
import { etl } from '../../steps/etl';
import { evaluate } from '../../steps/evaluate';
import { gate, gateParams } from '../../steps/gate';
import { register } from '../../steps/register';
import { exportOnnx, train, TRAINERS, type TrainedModel } from '../../steps/train';
import type { ColumnType } from '../../ml/table';

/** The feature columns, in the order /predict records carry them. */
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
/** The column to predict: text or a few whole numbers are classes; other numbers are a regression target. */
const TARGET = 'variety';
/** Column types to force instead of inferring them, e.g. { zip_code: 'string' }. */
const TYPES: Record<string, ColumnType> = {};

// Exported for the Python example (../python/pipeline.ts), which trains the same softmax regression on the
// same split: one declaration keeps their defaults and bounds, hence their runs, comparable.
/** The train/test split. */
export const splitParams = {
  seed: param.int(42),
  testSize: param.number(0.2, { min: 0.05, max: 0.9 }),
};
/** The softmax (logistic) regression's gradient descent. */
export const softmaxParams = {
  epochs: param.int(2000, { min: 1 }),
  learningRate: param.number(0.1, { min: 0 }),
  l2: param.number(0.001, { min: 0 }),
};

/** The ETL step of both examples: the CSV's FEATURES and TARGET, split as splitParams say. */
export function irisEtl(
  ctx: StepContext<{ data: string; testSize: number; seed: number; task?: 'auto' | 'classification' | 'regression' }>,
  maxBadRowShare: number,
) {
  return etl(ctx, {
    file: ctx.params.data,
    features: FEATURES,
    target: TARGET,
    task: ctx.params.task ?? 'auto',
    types: TYPES,
    testSize: ctx.params.testSize,
    seed: ctx.params.seed,
    maxBadRowShare,
  });
}

export default definePipeline({
  name: 'iris',
  description: 'Classify iris flowers by their sepal and petal sizes',
  params: {
    data: param.path('iris_dataset.csv', 'CSV with the FEATURES and TARGET columns'),
    model: param.string('iris', 'registry name of the model'),
    task: param.enum(['auto', 'classification', 'regression'], 'auto', 'auto: classes for text or few whole numbers'),
    trainer: param.enum(TRAINERS, 'auto', 'auto: random_forest, or logistic_regression with text features, or linear_regression'),
    ...splitParams,
    maxBadRowShare: param.number(0.05, { min: 0, max: 1 }),
    nEstimators: param.int(25, { min: 1, max: 1000 }),
    maxDepth: param.int(6, { min: 1, max: 64 }),
    maxFeatures: param.number(0.75, { min: 0.1, max: 1 }),
    ...softmaxParams,
    alpha: param.number(1, { min: 0, help: 'linear regression: L2 penalty on the standardized coefficients' }),
    ...gateParams,
  },
  steps: {
    etl: {
      run: (ctx) => irisEtl(ctx, ctx.params.maxBadRowShare),
    },
    train: {
      needs: ['etl'],
      run: (ctx) => train(ctx, ctx.params),
    },
    export: { needs: ['train'], run: (ctx) => exportOnnx(ctx, ctx.input<TrainedModel>('train')) },
    evaluate: { needs: ['export'], run: (ctx) => evaluate(ctx) },
    gate: { needs: ['evaluate'], run: (ctx) => gate(ctx, ctx.params) },
    register: { needs: ['gate'], run: (ctx) => register(ctx, ctx.params.model) },
  },
});
