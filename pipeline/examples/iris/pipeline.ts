// The embedded example: the original template's iris pipeline (ETL → train → export → evaluate →
// gate → register). Copy this file to start a pipeline of your own; `mlops train path/to/it.ts`.
import { definePipeline, param, type StepContext } from '../../sdk';
import { etl } from '../../steps/etl';
import { evaluate } from '../../steps/evaluate';
import { gate, gateParams } from '../../steps/gate';
import { register } from '../../steps/register';
import { exportOnnx, train } from '../../steps/train';
import type { Classifier } from '../../ml/classifier';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

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

/** The tree trainers' params (pipeline/ml/trees): gradient boosting's are scikit-learn's HistGradientBoosting defaults. */
export const treeParams = {
  gbMaxIter: param.int(100, { min: 1, max: 10_000, help: 'boosting iterations (one tree per class each)' }),
  gbLearningRate: param.number(0.1, { min: 0.0001, max: 10 }),
  gbMaxLeafNodes: param.int(31, { min: 2, max: 4096 }),
  gbMinSamplesLeaf: param.int(20, { min: 1 }),
  gbL2: param.number(0, { min: 0 }),
  maxBins: param.int(255, { min: 2, max: 255, help: 'histogram bins per feature' }),
  nEstimators: param.int(25, { min: 1, max: 1000, help: 'random forest: trees' }),
  maxDepth: param.int(6, { min: 1, max: 64, help: 'random forest: depth of each tree' }),
  maxFeatures: param.number(0.75, { min: 0.01, max: 1, help: 'random forest: share of the features tried at each split' }),
};

/** The ETL step of both examples: the iris CSV, split as splitParams say. */
export function irisEtl(ctx: StepContext<{ data: string; testSize: number; seed: number }>, maxBadRowShare: number) {
  return etl(ctx, {
    file: ctx.params.data,
    features: FEATURES,
    target: 'variety',
    testSize: ctx.params.testSize,
    seed: ctx.params.seed,
    maxBadRowShare,
  });
}

export default definePipeline({
  name: 'iris',
  description: 'Classify iris flowers by their sepal and petal sizes',
  params: {
    data: param.path('iris_dataset.csv', 'CSV with the feature columns and the variety label'),
    model: param.string('iris', 'registry name of the model'),
    // random_forest stays the default here: on iris's 30 test rows it is one row more accurate than gradient_boosting.
    trainer: param.enum(['gradient_boosting', 'random_forest', 'logistic_regression'], 'random_forest'),
    ...splitParams,
    maxBadRowShare: param.number(0.05, { min: 0, max: 1 }),
    ...treeParams,
    ...softmaxParams,
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
    export: { needs: ['train'], run: (ctx) => exportOnnx(ctx, ctx.input<Classifier>('train')) },
    evaluate: { needs: ['export'], run: (ctx) => evaluate(ctx) },
    gate: { needs: ['evaluate'], run: (ctx) => gate(ctx, ctx.params) },
    register: { needs: ['gate'], run: (ctx) => register(ctx, ctx.params.model) },
  },
});
