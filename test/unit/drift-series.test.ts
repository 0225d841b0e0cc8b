import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DriftSnapshot, TrainingReference } from '../../common/contract';
import { categoryBars, driftBars, driftLine, shareCharts, targetBars, UNSEEN } from '../../media/metrics/drift-series';

const reference: TrainingReference = {
  rows: 100,
  features: [
    { name: 'island', kind: 'categorical', count: 100, categories: ['Biscoe', 'Dream', 'Torgersen'], shares: [0.5, 0.3, 0.2] },
    {
      name: 'bill',
      kind: 'numeric',
      count: 100,
      mean: 44,
      std: 5,
      min: 32,
      max: 60,
      quantiles: [],
      binEdges: [32, 46, 60],
      binShares: [0.5, 0.5],
    },
  ],
  targets: [{ count: 100, mean: 4200, std: 800, min: 2700, max: 6300, quantiles: [], binEdges: [2700, 4500, 6300], binShares: [0.6, 0.4] }],
};

const drift: DriftSnapshot = {
  windowRows: 40,
  windowSize: 1000,
  features: [
    // The window's categories in another order than training's: bars pair by name.
    {
      name: 'island',
      kind: 'categorical',
      psi: 0.4,
      unseenShare: 0.1,
      shares: [0.2, 0.6, 0.1],
      categories: ['Dream', 'Biscoe', 'Torgersen'],
    },
    { name: 'bill', kind: 'numeric', psi: 0.05, ks: 0.12, mean: 45 },
  ],
  classes: null,
  targets: [{ name: 'body_mass_g', psi: 0.3, ks: 0.25, mean: 4800.4, quantiles: [], binShares: [0.3, 0.7] }],
};

test('category shares pair training and window by category, with the unseen share last', () => {
  const bars = categoryBars(drift.features[0] as Extract<DriftSnapshot['features'][number], { kind: 'categorical' }>, reference);
  assert.deepEqual(bars.buckets, ['Dream', 'Biscoe', 'Torgersen', UNSEEN]);
  assert.deepEqual(bars.training, [0.3, 0.5, 0.2, 0]);
  assert.deepEqual(bars.window, [0.2, 0.6, 0.1, 0.1]);
  assert.equal(bars.caption, 'PSI 0.400 · unseen 10.0%');
  const none = categoryBars(drift.features[0] as Extract<DriftSnapshot['features'][number], { kind: 'categorical' }>, null);
  assert.deepEqual(none.training, [0, 0, 0, 0]);
  assert.match(none.caption, /no training reference/);
});

test('regression predictions are drawn per training bin against the training target', () => {
  const bars = targetBars(drift.targets![0], reference.targets![0]);
  assert.deepEqual(bars.buckets, ['2700', '4500']);
  assert.deepEqual(bars.training, [0.6, 0.4]);
  assert.deepEqual(bars.window, [0.3, 0.7]);
  assert.equal(bars.caption, 'PSI 0.300 · KS 0.250 · mean 4800 (training 4200)');
  assert.deepEqual(targetBars(drift.targets![0], undefined).buckets, ['bin 1', 'bin 2']);
});

test('share charts: categorical features then targets; none without a snapshot', () => {
  assert.deepEqual(
    shareCharts(drift, reference).map((c) => c.title),
    ['Category shares: island', 'Predictions vs training target: body_mass_g (bins from their lower edge)'],
  );
  assert.deepEqual(shareCharts(null, reference), []);
});

test('PSI covers every feature, KS the numeric ones only', () => {
  assert.deepEqual(driftBars(drift, 'psi'), { names: ['island', 'bill'], values: [0.4, 0.05] });
  assert.deepEqual(driftBars(drift, 'ks'), { names: ['bill'], values: [0.12] });
  assert.deepEqual(driftBars(null, 'ks'), { names: [], values: [] });
});

test('the drift line names the window, target drift and unseen categories (and class drift for classifiers)', () => {
  assert.equal(driftLine(drift), 'drift window: 40 of 1000 rows · body_mass_g PSI 0.300, KS 0.250 · unseen categories: island 10.0%');
  const classes = { labels: ['a', 'b'], shares: [0.5, 0.5], psi: 0, jensenShannon: 0.0123 };
  assert.equal(driftLine({ ...drift, features: [], targets: null, classes }), 'drift window: 40 of 1000 rows · class JS distance 0.012');
  assert.equal(driftLine(null), '');
});
