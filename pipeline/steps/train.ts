import { errors } from '../../common/errors';
import type { Classifier } from '../ml/classifier';
import { fitEncoder, type FeatureEncoder } from '../ml/feature-encoder';
import { trainRidgeRegression, type Regressor } from '../ml/linear-regression';
import { graphInputs, modelInputs, OUTPUTS } from '../ml/model-inputs';
import { buildModel } from '../ml/onnx-model';
import { trainRandomForest } from '../ml/random-forest';
import { trainSoftmaxRegression } from '../ml/softmax-regression';
import type { StepContext } from '../sdk/pipeline';
import { DATASET, EXPECTED_LABELS, EXPECTED_VALUES, MODEL_FILE, type PreparedDataset } from './dataset';

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

/** A trained model with the encoder of its inputs: what the export step turns into one ONNX graph. */
export type TrainedModel =
  | { task: 'classification'; encoder: FeatureEncoder; model: Classifier }
  | { task: 'regression'; encoder: FeatureEncoder; model: Regressor };

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
  let trained: TrainedModel;
  if (trainer === 'linear_regression') {
    trained = { task: 'regression', encoder, model: trainRidgeRegression(X, data.train.y, { alpha: o.alpha ?? 1, ...opts }) };
  } else {
    const n = data.classLabels.length;
    const model =
      trainer === 'random_forest' ? trainRandomForest(X, data.train.y, n, opts) : trainSoftmaxRegression(X, data.train.y, n, opts);
    trained = { task: 'classification', encoder, model };
  }
  ctx.metric('train_seconds', (performance.now() - started) / 1000);
  ctx.log(`trained ${trainer} (${data.task}) on ${X.length} rows, ${encoder.width} encoded columns`);
  return trained;
}

/** The name of the encoded matrix inside the graph, between the encoder and the model. */
const ENCODED = 'encoded_features';

/** The whole graph of a trained model: the model-inputs layout, the encoder, the model, the task's outputs. */
export function tabularOnnx(data: PreparedDataset, trained: TrainedModel): Uint8Array {
  const inputs = graphInputs(modelInputs(data.features));
  const front = trained.encoder.nodes(ENCODED);
  if (trained.task === 'regression') {
    return buildModel({
      name: trained.model.kind,
      inputs,
      outputs: [{ name: OUTPUTS.valueOutput, type: 'float32', dims: [1] }],
      nodes: [...front, ...trained.model.onnxNodes(ENCODED, OUTPUTS.valueOutput)],
    });
  }
  const names = { inputName: ENCODED, labelOutput: OUTPUTS.labelOutput, probabilitiesOutput: OUTPUTS.probabilitiesOutput };
  return buildModel({
    name: trained.model.kind,
    inputs,
    outputs: [
      { name: names.labelOutput, type: 'int64', dims: [] },
      { name: names.probabilitiesOutput, type: 'float32', dims: [data.classLabels.length] },
    ],
    nodes: [...front, ...trained.model.onnxNodes(names)],
  });
}

/** Writes model.onnx and the in-memory model's test predictions (for the parity check). */
export function exportOnnx(ctx: StepContext<unknown>, trained: TrainedModel): void {
  const data = ctx.artifacts.readJson<PreparedDataset>(DATASET);
  const bytes = tabularOnnx(data, trained);
  ctx.artifacts.writeBytes(MODEL_FILE, bytes);
  const X = trained.encoder.matrix(data.test);
  if (trained.task === 'regression') ctx.artifacts.writeJson(EXPECTED_VALUES, trained.model.predict(X));
  else
    ctx.artifacts.writeJson(
      EXPECTED_LABELS,
      trained.model.predict(X).map((i) => data.classLabels[i]),
    );
  ctx.metric('model_bytes', bytes.length);
  ctx.log(`exported ${MODEL_FILE} (${bytes.length} bytes)`);
}
