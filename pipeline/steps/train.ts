import { errors } from '../../common/errors';
import { encodedClassifier, encodedRegressor } from '../ml/encoded-model';
import { fitEncoder } from '../ml/feature-encoder';
import { trainRidgeRegression } from '../ml/linear-regression';
import { modelInputs } from '../ml/model-inputs';
import { trainSoftmaxRegression } from '../ml/softmax-regression';
import type { TrainedModel } from '../ml/trained-model';
import { trainGradientBoosting } from '../ml/trees/boosting';
import { trainRandomForest } from '../ml/trees/forest';
import { lossCurveSvg } from '../ml/trees/loss-curve-svg';
import type { ProgressReport } from '../ml/trees/params';
import type { StepContext } from '../sdk/pipeline';
import { DATASET, EXPECTED_LABELS, EXPECTED_VALUES, MODEL_FILE, type PreparedDataset } from './dataset';
import { splitTable, treeModel } from './tree-table';

export type { TrainedModel };

export const TRAINERS = ['auto', 'gradient_boosting', 'random_forest', 'logistic_regression', 'linear_regression'] as const;
export type Trainer = (typeof TRAINERS)[number];

export interface TrainOptions {
  /**
   * 'auto': linear_regression for a regression target; for classes, random_forest when every
   * feature is a number, else logistic_regression.
   */
  trainer: Trainer;
  seed: number;
  // gradient boosting (scikit-learn's HistGradientBoosting parameters); optional so that pipelines written before it keep compiling
  gbMaxIter?: number;
  gbLearningRate?: number;
  gbMaxLeafNodes?: number;
  gbMinSamplesLeaf?: number;
  gbL2?: number;
  maxBins?: number;
  // random forest
  nEstimators: number;
  maxDepth: number;
  maxFeatures: number;
  // logistic regression
  epochs: number;
  learningRate: number;
  l2: number;
  // linear (ridge) regression; optional so that pipelines written before it keep compiling
  alpha?: number;
}

/** The trainer 'auto' means for a dataset. */
export function chooseTrainer(data: PreparedDataset, trainer: Trainer): Exclude<Trainer, 'auto'> {
  if (trainer !== 'auto') return trainer;
  if (data.task === 'regression') return 'linear_regression';
  return data.features.every((f) => f.type === 'number') ? 'random_forest' : 'logistic_regression';
}

export const LOSS_CURVE = 'loss_curve.svg';

/** Why a trainer cannot fit a dataset, or null. */
function mismatch(data: PreparedDataset, trainer: Exclude<Trainer, 'auto'>): string | null {
  if (trainer === 'linear_regression') return data.task === 'regression' ? null : 'it predicts numbers, and the target has classes';
  if (trainer === 'logistic_regression' && data.task === 'regression') {
    return `it predicts classes, and the target '${data.target}' is a regression target`;
  }
  return null;
}

/** Logs about 20 progress lines per training (every iteration of a short one) and checks for cancellation at each. */
function progressLogger(ctx: StepContext<unknown>, what: string): (p: ProgressReport) => void {
  return (p) => {
    ctx.throwIfCancelled();
    if (p.iteration % Math.max(1, Math.round(p.total / 20)) !== 0 && p.iteration !== p.total) return;
    const loss =
      p.validationLoss !== null
        ? `, validation loss ${p.validationLoss.toFixed(5)}`
        : p.trainLoss !== null
          ? `, loss ${p.trainLoss.toFixed(5)}`
          : '';
    ctx.log(`${what} ${p.iteration}/${p.total}${loss}`);
  };
}

/** Fits gradient boosting or a random forest on the typed train split (no encoder: trees split on categories and missing values). */
function trainTrees(ctx: StepContext<unknown>, o: TrainOptions, data: PreparedDataset, trainer: 'gradient_boosting' | 'random_forest') {
  const table = splitTable(data, data.train);
  const target =
    data.task === 'classification'
      ? { task: 'classification' as const, y: Int32Array.from(data.train.y), nClasses: data.classLabels.length }
      : { task: 'regression' as const, y: Float64Array.from(data.train.y) };
  const maxBins = o.maxBins ?? 255;
  if (trainer === 'random_forest') {
    const params = { nEstimators: o.nEstimators, maxDepth: o.maxDepth, maxFeatures: o.maxFeatures, maxBins, seed: o.seed };
    return trainRandomForest(table, target, params, { onProgress: progressLogger(ctx, 'tree') });
  }
  const params = {
    maxIter: o.gbMaxIter ?? 100,
    learningRate: o.gbLearningRate ?? 0.1,
    maxLeafNodes: o.gbMaxLeafNodes ?? 31,
    minSamplesLeaf: o.gbMinSamplesLeaf ?? 20,
    l2: o.gbL2 ?? 0,
    maxBins,
    seed: o.seed,
  };
  const model = trainGradientBoosting(table, target, params, { onProgress: progressLogger(ctx, 'iteration') });
  ctx.artifacts.writeText(LOSS_CURVE, lossCurveSvg(model.spec.lossCurve, `gradient boosting, ${table.nRows} rows`));
  ctx.metric('iterations', model.spec.iterations);
  return model;
}

/** Trains the chosen model on the train split; returns it in memory for the export step. */
export function train(ctx: StepContext<unknown>, o: TrainOptions): TrainedModel {
  const data = ctx.artifacts.readJson<PreparedDataset>(DATASET);
  const trainer = chooseTrainer(data, o.trainer);
  const why = mismatch(data, trainer);
  if (why) throw errors.stepFailed(ctx.step, `trainer ${trainer} cannot train on ${data.source.path}: ${why} (use trainer=auto)`);
  const started = performance.now();
  let trained: TrainedModel;
  if (trainer === 'gradient_boosting' || trainer === 'random_forest') {
    trained = treeModel(trainTrees(ctx, o, data, trainer), data);
    ctx.log(`trained ${trainer} (${data.task}) on ${data.train.rows} rows, ${data.features.length} features`);
  } else {
    const encoder = fitEncoder(data.features, modelInputs(data.features), data.train);
    const X = encoder.matrix(data.train);
    // Training is the long CPU-bound step: it looks for a cancellation between epochs or rows.
    const opts = { ...o, checkpoint: () => ctx.throwIfCancelled() };
    trained =
      trainer === 'linear_regression'
        ? encodedRegressor(encoder, trainRidgeRegression(X, data.train.y, { alpha: o.alpha ?? 1, ...opts }))
        : encodedClassifier(encoder, trainSoftmaxRegression(X, data.train.y, data.classLabels.length, opts));
    ctx.log(`trained ${trainer} (${data.task}) on ${X.length} rows, ${encoder.width} encoded columns`);
  }
  ctx.metric('train_seconds', (performance.now() - started) / 1000);
  return trained;
}

/** Writes model.onnx and the in-memory model's test predictions (for the parity check). */
export function exportOnnx(ctx: StepContext<unknown>, trained: TrainedModel): void {
  const data = ctx.artifacts.readJson<PreparedDataset>(DATASET);
  const bytes = trained.toOnnx(data);
  ctx.artifacts.writeBytes(MODEL_FILE, bytes);
  const predicted = trained.predict(data.test);
  if (trained.task === 'regression') ctx.artifacts.writeJson(EXPECTED_VALUES, predicted);
  else
    ctx.artifacts.writeJson(
      EXPECTED_LABELS,
      predicted.map((i) => data.classLabels[i]),
    );
  ctx.metric('model_bytes', bytes.length);
  ctx.log(`exported ${MODEL_FILE} (${bytes.length} bytes)`);
}
