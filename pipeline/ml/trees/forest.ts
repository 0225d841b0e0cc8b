// Random forest on histogram trees: each tree grows on a bootstrap sample (as weights: how often each row
// was drawn) and tries maxFeatures features drawn anew at every split; gini for classification, squared
// error for regression. Predictions average the trees' class shares or values.
import { binTable, fitBins } from './binning';
import { TreeGrower } from './grow';
import type { RowStats } from './histogram';
import { quantize, TreeEnsemble } from './model';
import { checkForestParams, featuresPerSplit, FOREST_DEFAULTS, type ForestParams, type TrainHooks } from './params';
import { Rng } from './rng';
import { checkTable, type TreeTable, type TreeTarget } from './table';
import type { Tree } from './tree';

const SHARE_BITS = 12;

/** Bootstrap weights (draw counts) into w; returns the rows drawn at least once. */
function bootstrap(n: number, rng: Rng, w: Float64Array, rows: Uint32Array): Uint32Array {
  w.fill(0);
  for (let i = 0; i < n; i++) w[rng.below(n)] += 1;
  let m = 0;
  for (let i = 0; i < n; i++) if (w[i] > 0) rows[m++] = i;
  return rows.subarray(0, m);
}

export function trainRandomForest(
  table: TreeTable,
  target: TreeTarget,
  params: Partial<ForestParams> = {},
  hooks: TrainHooks = {},
): TreeEnsemble {
  const p: ForestParams = { ...FOREST_DEFAULTS, maxFeatures: target.task === 'classification' ? 'sqrt' : null, ...params };
  checkForestParams(p);
  checkTable(table, target);
  const rng = new Rng(p.seed);
  const n = table.nRows;
  const binned = binTable(table, fitBins(table, p.maxBins, rng));
  const w = new Float64Array(n).fill(1);
  const g = new Float64Array(n);
  const nOutputs = target.task === 'classification' ? target.nClasses : 1;
  // Two classes need one channel: the gini decrease is then twice the squared-error one of y ∈ {0, 1}.
  const oneChannel = target.task === 'regression' || nOutputs === 2;
  const stats: RowStats =
    target.task === 'classification' && !oneChannel ? { mode: 'class', y: target.y, w, nClasses: nOutputs } : { mode: 'gradient', g, h: w };
  const grower = new TreeGrower(
    binned,
    stats,
    {
      maxLeafNodes: Infinity,
      maxDepth: p.maxDepth ?? Infinity,
      minSamplesLeaf: p.minSamplesLeaf,
      l2: 0,
      minHessian: 0,
      maxFeatures: featuresPerSplit(p.maxFeatures, binned.features.length),
    },
    rng,
  );
  const leafValue = (totals: Float64Array, out: Float64Array) => {
    if (target.task === 'regression') {
      out[0] = totals[0] / totals[1];
    } else if (oneChannel) {
      out[1] = quantize(totals[0] / totals[1], SHARE_BITS);
      out[0] = 1 - out[1];
    } else {
      for (let c = 0; c < nOutputs; c++) out[c] = quantize(totals[c] / totals[nOutputs], SHARE_BITS);
    }
  };
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const drawn = new Uint32Array(n);
  const trees: Tree[] = [];
  for (let t = 0; t < p.nEstimators; t++) {
    const rows = p.bootstrap ? bootstrap(n, rng, w, drawn) : all;
    if (oneChannel) for (let i = 0; i < n; i++) g[i] = w[i] * target.y[i];
    trees.push(grower.grow(rows, leafValue, nOutputs).tree);
    hooks.onProgress?.({ iteration: t + 1, total: p.nEstimators, trainLoss: null, validationLoss: null });
  }
  return new TreeEnsemble({
    kind: 'random_forest',
    task: target.task,
    nOutputs,
    trees,
    treeOffset: new Int32Array(trees.length),
    base: new Float64Array(nOutputs),
    numericNames: table.numericNames,
    categorical: table.categorical.map((c) => ({ name: c.name, categories: c.categories, input: c.input })),
    lossCurve: { loss: target.task === 'classification' ? 'log_loss' : 'squared_error', on: 'train', values: [] },
    iterations: trees.length,
  });
}
