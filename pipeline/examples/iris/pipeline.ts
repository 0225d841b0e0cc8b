// The embedded example: the original template's iris pipeline (ETL → train → export → evaluate →
// gate → register). To train on a CSV of your own, copy this file and change the column names
// below (and the data path): the column types (number, true/false, text) and the task
// (classification or regression) are read from the data. `mlops train path/to/it.ts`. Rewrite
// `card` too: it is what your model's card says about its use, limits and ethics (docs/model-cards.md).
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

/** The tree trainers' params (pipeline/ml/trees): gradient boosting's are scikit-learn's HistGradientBoosting defaults. */
export const treeParams = {
  gbMaxIter: param.int(100, { min: 1, max: 10_000, help: 'gradient boosting: iterations (one tree per class each)' }),
  gbLearningRate: param.number(0.1, { min: 0.0001, max: 10, help: 'gradient boosting: learning rate' }),
  gbMaxLeafNodes: param.int(31, { min: 2, max: 4096, help: 'gradient boosting: leaves per tree' }),
  gbMinSamplesLeaf: param.int(20, { min: 1, help: 'gradient boosting: rows per leaf, at least' }),
  gbL2: param.number(0, { min: 0, help: 'gradient boosting: L2 penalty on leaf values' }),
  maxBins: param.int(255, { min: 2, max: 255, help: 'histogram bins per feature (both tree trainers)' }),
  nEstimators: param.int(25, { min: 1, max: 1000, help: 'random forest: trees' }),
  maxDepth: param.int(6, { min: 1, max: 64, help: 'random forest: depth of each tree' }),
  maxFeatures: param.number(0.75, { min: 0.01, max: 1, help: 'random forest: share of the features tried at each split' }),
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
    ...treeParams,
    ...softmaxParams,
    alpha: param.number(1, { min: 0, help: 'linear regression: L2 penalty on the standardized coefficients' }),
    ...gateParams,
  },
  // The model card's metadata (docs/model-cards.md): iris has no categorical feature to show group gaps for.
  card: {
    intendedUse:
      'A teaching example: classify iris flowers (setosa, versicolor, virginica) from four sepal and petal ' +
      'measurements in centimetres, to show the pipeline, the registry and serving end to end.',
    limitations: [
      'Trained on 150 flowers of three species measured by one botanist (Anderson, 1935): other species, ' +
        'or measurements in other units, get a confident wrong answer.',
      'Versicolor and virginica overlap: expect errors between those two.',
    ],
    ethics: {
      consent: 'No personal data: measurements of flowers, in the public domain.',
      representativeness: 'Fifty flowers per species from one region; not a sample of iris flowers in general.',
      harmedGroups: 'No people are affected; per-class recall is checked by the gate (maxRecallGap).',
      misuse: 'Not for botanical identification in the field: it is a demonstration model.',
      humanOversight: 'Nobody acts on its predictions; it serves demos and tests.',
      retention:
        'The prediction log keeps inputs as long as MLOPS_LOG_MAX_AGE_DAYS and MLOPS_LOG_MAX_ROWS say; they hold no personal data.',
    },
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
