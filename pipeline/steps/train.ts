import { errors } from '../../common/errors';
import { encodedClassifier, encodedRegressor } from '../ml/encoded-model';
import { fitEncoder } from '../ml/feature-encoder';
import { trainRidgeRegression } from '../ml/linear-regression';
import { modelInputs } from '../ml/model-inputs';
import { trainRandomForest } from '../ml/random-forest';
import { trainSoftmaxRegression } from '../ml/softmax-regression';
import type { TrainedModel } from '../ml/trained-model';
import type { StepContext } from '../sdk/pipeline';
import { DATASET, EXPECTED_LABELS, EXPECTED_VALUES, MODEL_FILE, type PreparedDataset } from './dataset';

export type { TrainedModel };

export const TRAINERS = ['auto', 'random_forest', 'logistic_regression', 'linear_regression'] as const;
export type Trainer = (typeof TRAINERS)[number];

export interface TrainOptions {
  /**
   * 'auto': linear_regression for a regression target; for classes, random_forest when every
   * feature is a number, else logistic_regression.
   */
  trainer: Trainer;
  // random forest
  nEstimators: number;
  maxDepth: number;
  seed: number;
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

/** Why a trainer cannot fit a dataset, or null. */
function mismatch(data: PreparedDataset, trainer: Exclude<Trainer, 'auto'>): string | null {
  if (trainer === 'linear_regression') return data.task === 'regression' ? null : 'it predicts numbers, and the target has classes';
  if (data.task === 'regression') return `it predicts classes, and the target '${data.target}' is a regression target`;
  const other = data.features.filter((f) => f.type !== 'number').map((f) => f.name);
  if (trainer === 'random_forest' && other.length > 0) {
    return `it takes number features only, and ${other.map((n) => `'${n}'`).join(', ')} ${other.length > 1 ? 'are' : 'is'} categorical`;
  }
  return null;
}

/** Trains the chosen model on the train split (features encoded as its graph will); returns it in memory for the export step. */
export function train(ctx: StepContext<unknown>, o: TrainOptions): TrainedModel {
  const data = ctx.artifacts.readJson<PreparedDataset>(DATASET);
  const trainer = chooseTrainer(data, o.trainer);
  const why = mismatch(data, trainer);
  if (why) throw errors.stepFailed(ctx.step, `trainer ${trainer} cannot train on ${data.source.path}: ${why} (use trainer=auto)`);
  const encoder = fitEncoder(data.features, modelInputs(data.features), data.train);
  const X = encoder.matrix(data.train);
  const started = performance.now();
  // Training is the long CPU-bound step: it looks for a cancellation between trees, epochs or rows.
  const opts = { ...o, checkpoint: () => ctx.throwIfCancelled() };
  const n = data.classLabels.length;
  const trained =
    trainer === 'linear_regression'
      ? encodedRegressor(encoder, trainRidgeRegression(X, data.train.y, { alpha: o.alpha ?? 1, ...opts }))
      : encodedClassifier(
          encoder,
          trainer === 'random_forest' ? trainRandomForest(X, data.train.y, n, opts) : trainSoftmaxRegression(X, data.train.y, n, opts),
        );
  ctx.metric('train_seconds', (performance.now() - started) / 1000);
  ctx.log(`trained ${trainer} (${data.task}) on ${X.length} rows, ${encoder.width} encoded columns`);
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
