import type { Classifier } from '../ml/classifier';
import { trainSoftmaxRegression } from '../ml/softmax-regression';
import { tableFromRows, treeClassifier } from '../ml/trees/classifier-adapter';
import { trainGradientBoosting } from '../ml/trees/boosting';
import { trainRandomForest } from '../ml/trees/forest';
import { lossCurveSvg } from '../ml/trees/loss-curve-svg';
import type { TreeEnsemble } from '../ml/trees/model';
import type { ProgressReport } from '../ml/trees/params';
import type { StepContext } from '../sdk/pipeline';
import { DATASET, EXPECTED_LABELS, MODEL_FILE, type PreparedDataset } from './dataset';

export interface TrainOptions {
  trainer: 'gradient_boosting' | 'random_forest' | 'logistic_regression';
  seed: number;
  // gradient boosting (scikit-learn's HistGradientBoosting parameters)
  gbMaxIter: number;
  gbLearningRate: number;
  gbMaxLeafNodes: number;
  gbMinSamplesLeaf: number;
  gbL2: number;
  maxBins: number;
  // random forest
  nEstimators: number;
  maxDepth: number;
  maxFeatures: number;
  // logistic regression
  epochs: number;
  learningRate: number;
  l2: number;
}

export const LOSS_CURVE = 'loss_curve.svg';

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

function trainTrees(ctx: StepContext<unknown>, o: TrainOptions, X: number[][], y: number[], nClasses: number): TreeEnsemble {
  const table = tableFromRows(X);
  const target = { task: 'classification' as const, y: Int32Array.from(y), nClasses };
  if (o.trainer === 'random_forest') {
    const params = { nEstimators: o.nEstimators, maxDepth: o.maxDepth, maxFeatures: o.maxFeatures, maxBins: o.maxBins, seed: o.seed };
    return trainRandomForest(table, target, params, { onProgress: progressLogger(ctx, 'tree') });
  }
  const params = {
    maxIter: o.gbMaxIter,
    learningRate: o.gbLearningRate,
    maxLeafNodes: o.gbMaxLeafNodes,
    minSamplesLeaf: o.gbMinSamplesLeaf,
    l2: o.gbL2,
    maxBins: o.maxBins,
    seed: o.seed,
  };
  const model = trainGradientBoosting(table, target, params, { onProgress: progressLogger(ctx, 'iteration') });
  ctx.artifacts.writeText(LOSS_CURVE, lossCurveSvg(model.spec.lossCurve, `gradient boosting, ${X.length} rows`));
  ctx.metric('iterations', model.spec.iterations);
  return model;
}

/** Trains the chosen model on the train split; returns it in memory for the export step. */
export function train(ctx: StepContext<unknown>, o: TrainOptions): Classifier {
  const data = ctx.artifacts.readJson<PreparedDataset>(DATASET);
  const n = data.classLabels.length;
  const started = performance.now();
  const model =
    o.trainer === 'logistic_regression'
      ? // Training is the long CPU-bound step: it looks for a cancellation between epochs (trees: in their progress callback).
        trainSoftmaxRegression(data.train.X, data.train.y, n, { ...o, checkpoint: () => ctx.throwIfCancelled() })
      : treeClassifier(trainTrees(ctx, o, data.train.X, data.train.y, n));
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
