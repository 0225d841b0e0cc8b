import type { Classifier } from '../ml/classifier';
import { trainRandomForest } from '../ml/random-forest';
import { trainSoftmaxRegression } from '../ml/softmax-regression';
import type { StepContext } from '../sdk/pipeline';
import { DATASET, EXPECTED_LABELS, MODEL_FILE, type PreparedDataset } from './dataset';

export interface TrainOptions {
  trainer: 'random_forest' | 'logistic_regression';
  // random forest
  nEstimators: number;
  maxDepth: number;
  seed: number;
  maxFeatures: number;
  // logistic regression
  epochs: number;
  learningRate: number;
  l2: number;
}

/** Trains the chosen model on the train split; returns it in memory for the export step. */
export function train(ctx: StepContext<unknown>, o: TrainOptions): Classifier {
  const data = ctx.artifacts.readJson<PreparedDataset>(DATASET);
  const n = data.classLabels.length;
  const started = performance.now();
  // Training is the long CPU-bound step: it looks for a cancellation between trees or epochs.
  const opts = { ...o, checkpoint: () => ctx.throwIfCancelled() };
  const model =
    o.trainer === 'random_forest'
      ? trainRandomForest(data.train.X, data.train.y, n, opts)
      : trainSoftmaxRegression(data.train.X, data.train.y, n, opts);
  ctx.metric('train_seconds', (performance.now() - started) / 1000);
  ctx.log(`trained ${o.trainer} on ${data.train.X.length} rows`);
  return model;
}

/** The ONNX names every exported model uses; evaluate reads the real names from the file. */
export const ONNX_NAMES = { inputName: 'input', labelOutput: 'label', probabilitiesOutput: 'probabilities' };

/** Writes model.onnx and the in-memory model's test labels (for the parity check). */
export function exportOnnx(ctx: StepContext<unknown>, model: Classifier): void {
  const data = ctx.artifacts.readJson<PreparedDataset>(DATASET);
  const bytes = model.toOnnx(ONNX_NAMES);
  ctx.artifacts.writeBytes(MODEL_FILE, bytes);
  ctx.artifacts.writeJson(
    EXPECTED_LABELS,
    model.predict(data.test.X).map((i) => data.classLabels[i]),
  );
  ctx.metric('model_bytes', bytes.length);
  ctx.log(`exported ${MODEL_FILE} (${bytes.length} bytes)`);
}
