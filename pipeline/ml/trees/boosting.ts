// Gradient boosting on histogram trees (log-loss for classification, squared error for regression),
// as scikit-learn's HistGradientBoosting*: one tree per class and iteration, leaf value
// -learningRate · G / (H + l2), early stopping on a held-out validation loss.
import { binTable, fitBins } from './binning';
import { TreeGrower } from './grow';
import { type LossCurve, quantize, softmaxInPlace, TreeEnsemble } from './model';
import { BOOSTING_DEFAULTS, checkBoostingParams, type BoostingParams, type TrainHooks } from './params';
import { Rng } from './rng';
import { checkTable, selectRows, selectTarget, type TreeTable, type TreeTarget } from './table';
import { addTreeValues, type Tree } from './tree';

const LEAF_BITS = 18;
/** scikit-learn's min_hessian_to_split. */
const MIN_HESSIAN = 1e-3;

/** Shuffled row indexes split into a training part and a validation part of `fraction`. */
export function holdOut(n: number, fraction: number, rng: Rng): { train: Uint32Array; validation: Uint32Array } {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const nVal = Math.max(1, Math.round(n * fraction));
  return { train: order.subarray(nVal).sort(), validation: order.subarray(0, nVal).sort() };
}

/** Rows the training loss is measured on: it is a progress figure, and a strided sample of 10^4 rows draws the same curve. */
const LOSS_SAMPLE = 10_000;

/** The loss being minimized, from scores [N, width] (binary: width 1, the log-odds), on every step-th row. */
function lossOf(target: TreeTarget, scores: Float64Array, width: number, step = 1): number {
  const n = target.y.length;
  let sum = 0;
  let m = 0;
  if (target.task === 'regression') {
    for (let i = 0; i < n; i += step, m++) sum += (scores[i] - target.y[i]) ** 2;
    return sum / m;
  }
  if (width === 1) {
    for (let i = 0; i < n; i += step, m++) {
      const f = scores[i];
      // log(1 + e^f) - y·f, computed without overflow.
      sum += Math.max(f, 0) + Math.log1p(Math.exp(-Math.abs(f))) - target.y[i] * f;
    }
    return sum / m;
  }
  for (let i = 0; i < n; i += step, m++) {
    let max = -Infinity;
    for (let c = 0; c < width; c++) max = Math.max(max, scores[i * width + c]);
    let z = 0;
    for (let c = 0; c < width; c++) z += Math.exp(scores[i * width + c] - max);
    sum += max + Math.log(z) - scores[i * width + target.y[i]];
  }
  return sum / m;
}

/** The constant scores the first tree starts from: the mean, the prior log-odds, or the log priors. */
function baselineOf(target: TreeTarget, width: number): Float64Array {
  const n = target.y.length;
  if (target.task === 'regression') return Float64Array.of(target.y.reduce((a, b) => a + b, 0) / n);
  const counts = new Float64Array(target.nClasses);
  for (let i = 0; i < n; i++) counts[target.y[i]] += 1;
  const eps = 1e-15;
  if (width === 1) {
    const p = Math.min(1 - eps, Math.max(eps, counts[1] / n));
    return Float64Array.of(quantize(Math.log(p / (1 - p)), LEAF_BITS));
  }
  return counts.map((c) => quantize(Math.log(Math.max(eps, c / n)), LEAF_BITS));
}

/** Gradients and hessians of the loss at the current scores, for the tree of output k. */
function gradients(
  target: TreeTarget,
  scores: Float64Array,
  width: number,
  k: number,
  probs: Float64Array,
  g: Float64Array,
  h: Float64Array,
): void {
  const n = target.y.length;
  if (target.task === 'regression') {
    for (let i = 0; i < n; i++) g[i] = scores[i] - target.y[i];
    return;
  }
  if (width === 1) {
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-scores[i]));
      g[i] = p - target.y[i];
      h[i] = p * (1 - p);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const p = probs[i * width + k];
    g[i] = p - (target.y[i] === k ? 1 : 0);
    h[i] = p * (1 - p);
  }
}

/** True when none of the last n losses improved on the one before them by more than tol (scikit-learn's rule). */
function shouldStop(losses: number[], n: number, tol: number): boolean {
  if (losses.length < n + 1) return false;
  const reference = losses[losses.length - n - 1] - tol;
  return !losses.slice(-n).some((l) => l < reference);
}

export function trainGradientBoosting(
  table: TreeTable,
  target: TreeTarget,
  params: Partial<BoostingParams> = {},
  hooks: TrainHooks = {},
): TreeEnsemble {
  const p: BoostingParams = { ...BOOSTING_DEFAULTS, ...params };
  checkBoostingParams(p);
  checkTable(table, target);
  const rng = new Rng(p.seed);
  const early = p.earlyStopping === 'on' || (p.earlyStopping === 'auto' && table.nRows > 10_000);
  let train = table;
  let trainTarget = target;
  let validation: { table: TreeTable; target: TreeTarget } | null = null;
  if (early) {
    const split = holdOut(table.nRows, p.validationFraction, rng);
    train = selectRows(table, split.train);
    trainTarget = selectTarget(target, split.train);
    validation = { table: selectRows(table, split.validation), target: selectTarget(target, split.validation) };
  }
  const n = train.nRows;
  const classification = trainTarget.task === 'classification';
  // Binary log-loss needs one score (the log-odds); multiclass one per class.
  const width = trainTarget.task === 'classification' && trainTarget.nClasses > 2 ? trainTarget.nClasses : 1;
  const binned = binTable(train, fitBins(train, p.maxBins, rng));
  const g = new Float64Array(n);
  const h = new Float64Array(n).fill(1);
  const grower = new TreeGrower(
    binned,
    // Squared error's hessians are all 1: the histograms count rows instead of summing them.
    { mode: 'gradient', g, h, unitHessian: !classification },
    {
      maxLeafNodes: p.maxLeafNodes,
      maxDepth: p.maxDepth ?? Infinity,
      minSamplesLeaf: p.minSamplesLeaf,
      l2: p.l2,
      minHessian: classification ? MIN_HESSIAN : 0,
      maxFeatures: binned.features.length,
    },
    rng,
  );
  const base = baselineOf(trainTarget, width);
  const scores = new Float64Array(n * width);
  for (let i = 0; i < n; i++) scores.set(base, i * width);
  const valScores = validation ? new Float64Array(validation.table.nRows * width) : null;
  if (valScores) for (let i = 0; i < valScores.length; i += width) valScores.set(base, i);
  const probs = new Float64Array(width > 1 ? n * width : 0);
  const rows = Uint32Array.from({ length: n }, (_, i) => i);
  const lossStep = Math.max(1, Math.floor(n / LOSS_SAMPLE));
  const trees: Tree[] = [];
  const offsets: number[] = [];
  const curve: LossCurve = {
    loss: classification ? 'log_loss' : 'squared_error',
    on: validation ? 'validation' : 'train',
    values: [],
  };
  const leafValue = (totals: Float64Array, out: Float64Array) => {
    const v = (-p.learningRate * totals[0]) / (totals[1] + p.l2);
    out[0] = classification ? quantize(v, LEAF_BITS) : v;
  };
  for (let iter = 0; iter < p.maxIter; iter++) {
    if (width > 1) {
      probs.set(scores);
      for (let i = 0; i < n; i++) softmaxInPlace(probs, i * width, width);
    }
    const fitted: Tree[] = [];
    for (let k = 0; k < width; k++) {
      gradients(trainTarget, scores, width, k, probs, g, h);
      const grown = grower.grow(rows, leafValue, 1);
      for (const leaf of grown.leaves) {
        const v = grown.tree.values[leaf.node];
        for (let i = leaf.start; i < leaf.end; i++) scores[grown.idx[i] * width + k] += v;
      }
      fitted.push(grown.tree);
    }
    fitted.forEach((tree, k) => {
      trees.push(tree);
      offsets.push(k);
      if (validation && valScores) addTreeValues(tree, validation.table, valScores, width, k);
    });
    // One loss per iteration: the validation split's if there is one (the training loss costs a pass over every row).
    const loss = validation && valScores ? lossOf(validation.target, valScores, width) : lossOf(trainTarget, scores, width, lossStep);
    curve.values.push(loss);
    hooks.onProgress?.({
      iteration: iter + 1,
      total: p.maxIter,
      trainLoss: validation ? null : loss,
      validationLoss: validation ? loss : null,
    });
    if (validation && shouldStop(curve.values, p.nIterNoChange, p.tol)) break;
  }
  const binary = classification && width === 1;
  return new TreeEnsemble({
    kind: 'gradient_boosting',
    task: target.task,
    // A binary model scores [0, f]: the softmax of that is the sigmoid, and one graph serves every class count.
    nOutputs: binary ? 2 : width,
    trees,
    treeOffset: Int32Array.from(offsets, (k) => (binary ? 1 : k)),
    base: binary ? Float64Array.of(0, base[0]) : base,
    numericNames: table.numericNames,
    categorical: table.categorical.map((c) => ({ name: c.name, categories: c.categories, input: c.input })),
    lossCurve: curve,
    iterations: curve.values.length,
  });
}
