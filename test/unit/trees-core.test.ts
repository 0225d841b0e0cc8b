import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { binTable, fitBins, MISSING_BIN } from '../../pipeline/ml/trees/binning';
import { trainGradientBoosting } from '../../pipeline/ml/trees/boosting';
import { trainRandomForest } from '../../pipeline/ml/trees/forest';
import { treeEnsembleToOnnx } from '../../pipeline/ml/trees/onnx-export';
import { Rng } from '../../pipeline/ml/trees/rng';
import { syntheticTable } from '../../pipeline/ml/trees/synthetic';
import type { TreeTable } from '../../pipeline/ml/trees/table';

/** One boosting iteration with learning rate 1 and two leaves: the tree is exactly the best single split. */
const ONE_SPLIT = { maxIter: 1, learningRate: 1, maxLeafNodes: 2, minSamplesLeaf: 1, earlyStopping: 'off' as const };

function numericTable(values: number[]): TreeTable {
  return { nRows: values.length, numericNames: ['x'], numeric: Float32Array.from(values), categorical: [] };
}

describe('histogram trees: splits checked by hand', () => {
  test('a step in y is split at the midpoint between the two groups, leaves are the group means', () => {
    // y = 0 for x ≤ 4 and 10 above: base score 5, G = ±20 per side over 4 rows, so leaves -5 and +5 and gain 200.
    const table = numericTable([1, 2, 3, 4, 5, 6, 7, 8]);
    const y = Float64Array.of(0, 0, 0, 0, 10, 10, 10, 10);
    const model = trainGradientBoosting(table, { task: 'regression', y }, ONE_SPLIT);
    const [tree] = model.spec.trees;
    assert.equal(tree.feature[0], 0);
    assert.equal(tree.threshold[0], 4.5);
    assert.deepEqual(Array.from(model.predict(table).values), [0, 0, 0, 0, 10, 10, 10, 10]);
  });

  test('missing values go to the side they fit best, and new missing values follow them', () => {
    const table = numericTable([1, 2, 3, 4, NaN, NaN]);
    for (const [missingY, expectLeft] of [
      [10, false],
      [0, true],
    ] as const) {
      const y = Float64Array.of(0, 0, 10, 10, missingY, missingY);
      const model = trainGradientBoosting(table, { task: 'regression', y }, ONE_SPLIT);
      assert.equal(model.spec.trees[0].threshold[0], 2.5);
      assert.equal(model.spec.trees[0].missingLeft[0] === 1, expectLeft);
      const p = model.predict(table).values;
      assert.ok(Math.abs(p[4] - missingY) < 1e-9 && Math.abs(p[5] - missingY) < 1e-9, `missing rows predicted ${p[4]}, ${p[5]}`);
    }
  });

  test('a categorical split groups categories by their target (not their order), missing included', () => {
    // a and c are high, b and d low, missing rows high: one split separates {a, c, missing} from {b, d}.
    const codes = Int32Array.of(0, 1, 2, 3, 0, 1, 2, 3, -1, -1);
    const y = Float64Array.of(10, 0, 10, 0, 10, 0, 10, 0, 10, 10);
    const table: TreeTable = {
      nRows: 10,
      numericNames: [],
      numeric: new Float32Array(0),
      categorical: [{ name: 'c', categories: ['a', 'b', 'c', 'd'], codes }],
    };
    const model = trainGradientBoosting(table, { task: 'regression', y }, ONE_SPLIT);
    const cats = model.spec.trees[0].leftCategories[0] as Uint8Array;
    const side = (code: number) => cats[code];
    assert.equal(side(0), side(2));
    assert.equal(side(1), side(3));
    assert.notEqual(side(0), side(1));
    assert.equal(cats[MISSING_BIN], side(0));
    assert.deepEqual(Array.from(model.predict(table).values).map(Math.round), Array.from(y));
  });

  test('a forest of one unbootstrapped tree with every feature learns a clean classification exactly', () => {
    const table = numericTable([1, 2, 3, 4, 5, 6]);
    const y = Int32Array.of(0, 0, 1, 1, 2, 2);
    const model = trainRandomForest(
      table,
      { task: 'classification', y, nClasses: 3 },
      { nEstimators: 1, bootstrap: false, maxFeatures: null },
    );
    assert.deepEqual(Array.from(model.predict(table).labels as Int32Array), [0, 0, 1, 1, 2, 2]);
  });
});

describe('binning', () => {
  test('few distinct values: one bin each, edges at float32 midpoints; NaN in the missing bin', () => {
    const table = numericTable([3, 1, 2, 1, NaN, 3]);
    const bins = fitBins(table, 255, new Rng(0));
    assert.deepEqual(Array.from(bins[0].edges), [1.5, 2.5]);
    assert.deepEqual(Array.from(binTable(table, bins).columns[0]), [2, 0, 1, 0, MISSING_BIN, 2]);
  });

  test('many distinct values: at most maxBins bins of about equal counts', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => Math.sin(i) * 1000);
    const table = numericTable(values);
    for (const maxBins of [255, 16]) {
      const bins = fitBins(table, maxBins, new Rng(0));
      assert.ok(bins[0].nBins <= maxBins && bins[0].nBins >= maxBins - 1, `${bins[0].nBins} bins`);
      const counts = new Array<number>(bins[0].nBins).fill(0);
      for (const b of binTable(table, bins).columns[0]) counts[b] += 1;
      assert.ok(Math.max(...counts) < (2.5 * values.length) / maxBins, `counts ${Math.min(...counts)}..${Math.max(...counts)}`);
    }
  });

  test('the bin of a value is the number of edges below it: at, between and beyond the edges, for 0 to 254 edges', () => {
    for (const nEdges of [0, 1, 2, 3, 7, 64, 254]) {
      const edges = Float32Array.from({ length: nEdges }, (_, i) => i * 2);
      const values = [-1, ...Array.from({ length: 2 * nEdges + 1 }, (_, i) => i - 0.5), ...Array.from(edges), 1e9, NaN];
      const binned = binTable(numericTable(values), [{ categorical: false, nBins: nEdges + 1, edges }]);
      const expected = values.map((v) => (Number.isNaN(v) ? MISSING_BIN : edges.filter((e) => e < Math.fround(v)).length));
      assert.deepEqual(Array.from(binned.columns[0]), expected, `${nEdges} edges`);
    }
  });
});

describe('determinism', () => {
  const { table, target } = syntheticTable({
    rows: 2000,
    numeric: 6,
    categorical: 2,
    task: 'classification',
    nClasses: 3,
    missing: 0.05,
    seed: 3,
  });

  test('the same seed gives the same model bytes; a forest with another seed differs', () => {
    const gb = () => treeEnsembleToOnnx(trainGradientBoosting(table, target, { maxIter: 10, seed: 5, earlyStopping: 'on' }));
    assert.deepEqual(gb(), gb());
    const rf = (seed: number) => treeEnsembleToOnnx(trainRandomForest(table, target, { nEstimators: 5, seed }));
    assert.deepEqual(rf(1), rf(1));
    assert.notDeepEqual(rf(1), rf(2));
  });

  test('progress is reported once per iteration; early stopping ends on a flat validation loss', () => {
    const seen: number[] = [];
    const params = { maxIter: 300, learningRate: 0.5, earlyStopping: 'on' as const };
    const model = trainGradientBoosting(table, target, params, { onProgress: (p) => seen.push(p.iteration) });
    assert.deepEqual(
      seen,
      Array.from({ length: model.spec.iterations }, (_, i) => i + 1),
    );
    assert.ok(model.spec.iterations < 300, `stopped after ${model.spec.iterations}`);
    assert.equal(model.spec.lossCurve.on, 'validation');
    assert.equal(model.spec.lossCurve.values.length, model.spec.iterations);
  });
});
