import { test } from 'node:test';
import assert from 'node:assert/strict';

import { binShares, numericDistribution, trainingReference, typedTrainingReference } from '../../pipeline/ml/reference';
import type { Column } from '../../pipeline/ml/table';

const close = (actual: number[], expected: number[], what: string) => {
  assert.equal(actual.length, expected.length, `${what} length`);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) < 1e-9, `${what}[${i}]: ${a} ≠ ${expected[i]}`));
};

// Columns: evenly spaced, mostly zeros, constant.
const X = [
  [10, 0, 7],
  [50, 1, 7],
  [30, 0, 7],
  [20, 0, 7],
  [40, 0, 7],
];
const y = [0, 1, 1, 2, 2];

test('per-feature statistics, deciles and histograms on known values', () => {
  const ref = trainingReference(X, y, ['spread', 'spike', 'flat'], 4, 4);
  assert.equal(ref.rows, 5);
  assert.deepEqual(
    ref.features.map((f) => f.name),
    ['spread', 'spike', 'flat'],
  );

  const [spread, spike, flat] = ref.features;
  assert.equal(spread.count, 5);
  assert.equal(spread.mean, 30);
  close([spread.std], [Math.sqrt(200)], 'population std');
  assert.equal(spread.min, 10);
  assert.equal(spread.max, 50);
  // Linear interpolation between ranks: q = 0.1 sits 0.4 of the way from 10 to 20.
  close(spread.quantiles, [14, 18, 22, 26, 30, 34, 38, 42, 46], 'deciles');
  close(spread.binEdges, [10, 20, 30, 40, 50], 'edges');
  // Bins are [lo, hi) except the last, which also holds the maximum.
  close(spread.binShares, [0.2, 0.2, 0.2, 0.4], 'shares');

  close([spike.mean, spike.std], [0.2, 0.4], 'spike mean/std');
  close(spike.quantiles, [0, 0, 0, 0, 0, 0, 0, 0.2, 0.6], 'spike deciles');
  close(spike.binShares, [0.8, 0, 0, 0.2], 'spike shares');

  assert.equal(flat.std, 0);
  close(flat.binEdges, [7, 7, 7, 7, 7], 'flat edges');
  close([flat.binShares.reduce((a, b) => a + b, 0)], [1], 'flat shares sum');
});

test('class shares cover every class index, including absent ones', () => {
  assert.deepEqual(trainingReference(X, y, ['a', 'b', 'c'], 4).classShares, [0.2, 0.4, 0.4, 0]);
});

test('ten bins by default, shares summing to 1', () => {
  const { features } = trainingReference(X, y, ['a', 'b', 'c'], 3);
  for (const f of features) {
    assert.equal(f.binEdges.length, 11);
    assert.equal(f.binShares.length, 10);
    close([f.binShares.reduce((a, b) => a + b, 0)], [1], `${f.name} shares sum`);
  }
});

test('binShares puts out-of-range values in the edge bins', () => {
  close(binShares([-5, 0.5, 1.5, 2, 100], [0, 1, 2]), [0.4, 0.6], 'shares');
  close(binShares([], [0, 1, 2]), [0, 0], 'empty');
});

test('mismatched feature names and bad bins are rejected', () => {
  assert.throws(() => trainingReference(X, y, ['a', 'b'], 3), /2 feature names for 3 feature columns/);
  assert.throws(() => trainingReference(X, y, ['a', 'b', 'c'], 3, 0), /bins must be a positive integer/);
});

test('typed reference: numeric features skip missing values, categorical ones record shares', () => {
  const features: Column[] = [
    { name: 'mass', type: 'number', values: [10, null, 30, 20, 40], missing: 1 },
    { name: 'island', type: 'string', values: ['b', 'a', 'b', null, 'b'], missing: 1 },
    { name: 'flag', type: 'boolean', values: [true, false, true, true, false], missing: 0 },
  ];
  const ref = typedTrainingReference(features, { task: 'classification', y: [0, 1, 1, 0, 0], nClasses: 3 }, 4);
  assert.equal(ref.rows, 5);
  const [mass, island, flag] = ref.features;
  assert.ok(mass.kind === 'numeric');
  assert.equal(mass.count, 4);
  assert.equal(mass.mean, 25);
  close(mass.binEdges, [10, 17.5, 25, 32.5, 40], 'edges');
  assert.deepEqual(island, { name: 'island', kind: 'categorical', count: 4, categories: ['a', 'b'], shares: [0.25, 0.75] });
  assert.ok(flag.kind === 'categorical');
  assert.deepEqual(
    [flag.categories, flag.shares],
    [
      ['false', 'true'],
      [0.4, 0.6],
    ],
  );
  close(ref.classShares!, [0.6, 0.4, 0], 'class shares');
  assert.equal(ref.targets, undefined);
});

test('typed reference for regression: one distribution per target', () => {
  const features: Column[] = [{ name: 'x', type: 'number', values: [1, 2, 3, 4], missing: 0 }];
  const ref = typedTrainingReference(features, { task: 'regression', values: [[5, 15, 25, 35]] }, 2);
  assert.equal(ref.classShares, undefined);
  assert.equal(ref.targets!.length, 1);
  const [t] = ref.targets!;
  assert.equal(t.mean, 20);
  close(t.binEdges, [5, 20, 35], 'target edges');
  close(t.binShares, [0.5, 0.5], 'target shares');
  assert.deepEqual(numericDistribution([5, 15, 25, 35], 2), t);
  assert.throws(() => typedTrainingReference(features, { task: 'regression', values: [[1]] }), /1 target values for 4 rows/);
});
