import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { ClassificationSignature, DriftSnapshot, NumericDistribution, TrainingReference } from '../../common/contract';
import { tabularInput } from '../../common/signature';
import { trainingReference } from '../../pipeline/ml/reference';
import { DriftMonitor as TypedMonitor, jensenShannon, psi, PSI_EPSILON } from '../../server/monitoring/drift';

type NumericDrift = { name: string; psi: number; ks: number; mean: number };
type Snapshot = Omit<DriftSnapshot, 'features' | 'classes'> & {
  features: NumericDrift[];
  classes: NonNullable<DriftSnapshot['classes']>;
};

/**
 * The monitor of a float32 classifier fed as the numeric tests below think of it: rows of numbers
 * and predicted class indexes (typed batches and categorical features are tested at the end).
 */
class DriftMonitor {
  private readonly monitor: TypedMonitor;
  constructor(
    reference: TrainingReference,
    private readonly features: string[],
    labels: string[],
    windowSize?: number,
  ) {
    const signature: ClassificationSignature = {
      ...tabularInput(
        'input',
        'float64',
        features.map((name) => ({ name })),
      ),
      task: 'classification',
      target: 'y',
      labelOutput: 'label',
      labelKind: 'index',
      probabilitiesOutput: null,
      classLabels: labels,
    };
    this.monitor = new TypedMonitor(signature, reference, windowSize);
  }
  observe(rows: ArrayLike<number>, classes: ArrayLike<number>): void {
    const n = classes.length;
    if (rows.length !== n * this.features.length) throw new Error(`${rows.length} values for ${n} rows`);
    const buffer = Float64Array.from(rows);
    const prediction = { task: 'classification' as const, classes: Int32Array.from(classes), probabilities: null };
    this.monitor.observe({ n, buffers: new Map([['input', buffer]]) }, prediction);
  }
  snapshot(): Snapshot {
    return this.monitor.snapshot() as Snapshot;
  }
}

/** Seeded uniform [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(uniform: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

const FEATURES = ['a', 'b', 'c', 'd'];
const LABELS = ['low', 'mid', 'high'];
const MEANS = [0, 50, 0, 3];
const STDS = [1, 5, 1 / Math.sqrt(3), 0.5];

/** a ~ N(0,1), b ~ N(50,5), c ~ U(-1,1), d ~ N(3,0.5); the class follows a. */
function sample(rows: number, seed: number, shift: number[] = [0, 0, 0, 0]): { X: number[][]; y: number[] } {
  const uniform = mulberry32(seed);
  const gauss = normal(uniform);
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < rows; i++) {
    const row = [gauss(), 50 + 5 * gauss(), 2 * uniform() - 1, 3 + 0.5 * gauss()].map((v, j) => v + shift[j]);
    X.push(row);
    y.push(row[0] < -0.5 ? 0 : row[0] < 0.5 ? 1 : 2);
  }
  return { X, y };
}

const training = sample(5000, 1);
const reference = trainingReference(training.X, training.y, FEATURES, LABELS.length);

function monitorWith(rows: { X: number[][]; y: number[] }, windowSize = 1000): DriftMonitor {
  const monitor = new DriftMonitor(reference, FEATURES, LABELS, windowSize);
  monitor.observe(Float32Array.from(rows.X.flat()), rows.y);
  return monitor;
}

const close = (actual: number, expected: number, what: string, tolerance = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} ≠ ${expected}`);

test('a window from the training distribution shows no drift', () => {
  const snap = monitorWith(sample(1000, 2)).snapshot();
  assert.equal(snap.windowRows, 1000);
  assert.equal(snap.windowSize, 1000);
  assert.deepEqual(
    snap.features.map((f) => f.name),
    FEATURES,
  );
  for (const [j, f] of snap.features.entries()) {
    assert.ok(f.psi >= 0 && f.psi < 0.1, `${f.name} psi ${f.psi}`);
    assert.ok(f.ks > 0 && f.ks < 0.1, `${f.name} ks ${f.ks}`);
    close(f.mean, MEANS[j], `${f.name} mean`, 0.1 * STDS[j]);
  }
  assert.deepEqual(snap.classes.labels, LABELS);
  close(
    snap.classes.shares.reduce((a, b) => a + b, 0),
    1,
    'class shares sum',
  );
  assert.ok(snap.classes.psi < 0.1, `class psi ${snap.classes.psi}`);
  assert.ok(snap.classes.jensenShannon < 0.1, `js ${snap.classes.jensenShannon}`);
});

test('a +2 std shift of one feature drifts that feature only', () => {
  const snap = monitorWith(sample(1000, 3, [0, 2 * STDS[1], 0, 0])).snapshot();
  const [a, b, c, d] = snap.features;
  assert.ok(b.psi > 0.25, `b psi ${b.psi}`);
  // Two standard deviations apart, normal CDFs differ by up to 2Φ(1) − 1 ≈ 0.68.
  assert.ok(b.ks > 0.5, `b ks ${b.ks}`);
  close(b.mean, 60, 'b mean', 0.5);
  for (const f of [a, c, d]) {
    assert.ok(f.psi < 0.1, `${f.name} psi ${f.psi}`);
    assert.ok(f.ks < 0.1, `${f.name} ks ${f.ks}`);
  }
  assert.ok(snap.classes.jensenShannon < 0.1, `js ${snap.classes.jensenShannon}`);
});

test('predictions concentrating on one class move class shares, PSI and JS', () => {
  const rows = sample(1000, 4);
  const monitor = new DriftMonitor(reference, FEATURES, LABELS);
  monitor.observe(rows.X.flat(), new Array<number>(1000).fill(2));
  const { classes } = monitor.snapshot();
  assert.deepEqual(classes.shares, [0, 0, 1]);
  const [p0, p1, p2] = reference.classShares!;
  const expectedPsi =
    (PSI_EPSILON - p0) * Math.log(PSI_EPSILON / p0) + (PSI_EPSILON - p1) * Math.log(PSI_EPSILON / p1) + (1 - p2) * Math.log(1 / p2);
  close(classes.psi, expectedPsi, 'class psi');
  assert.ok(classes.psi > 1, `class psi ${classes.psi}`);
  // JS divergence of a point mass against q: the only mass p=1 sits in class 2, m = (p + q) / 2.
  const m2 = (1 + p2) / 2;
  const divergence =
    0.5 * Math.log2(1 / m2) + 0.5 * (p0 * Math.log2(p0 / (p0 / 2)) + p1 * Math.log2(p1 / (p1 / 2)) + p2 * Math.log2(p2 / m2));
  close(classes.jensenShannon, Math.sqrt(divergence), 'js');
  assert.ok(classes.jensenShannon > 0.5, `js ${classes.jensenShannon}`);
  // Inputs did not change: the feature drift stays low.
  for (const f of monitor.snapshot().features) assert.ok(f.psi < 0.1, `${f.name} psi ${f.psi}`);
});

test('the ring buffer keeps only the last windowSize rows', () => {
  const monitor = new DriftMonitor(reference, FEATURES, LABELS, 1000);
  const shifted = sample(1000, 5, [3, 3 * STDS[1], 3 * STDS[2], 3 * STDS[3]]);
  monitor.observe(shifted.X.flat(), shifted.y);
  assert.ok(monitor.snapshot().features.every((f) => f.psi > 0.25 && f.ks > 0.5));
  // Then 1500 rows from the training distribution, in uneven batches that wrap the buffer.
  const fresh = sample(1500, 6);
  for (let start = 0; start < 1500;) {
    const end = Math.min(1500, start + 1 + (start % 97));
    monitor.observe(fresh.X.slice(start, end).flat(), fresh.y.slice(start, end));
    start = end;
  }
  const snap = monitor.snapshot();
  assert.equal(snap.windowRows, 1000);
  const latest = fresh.X.slice(500);
  for (const [j, f] of snap.features.entries()) {
    assert.ok(f.psi < 0.1 && f.ks < 0.1, `${f.name} psi ${f.psi} ks ${f.ks}`);
    close(f.mean, latest.reduce((s, row) => s + row[j], 0) / latest.length, `${f.name} mean of the last 1000 rows`);
  }
});

test('a small window wraps exactly, also when one batch exceeds it', () => {
  const monitor = new DriftMonitor(reference, FEATURES, LABELS, 3);
  const row = (v: number) => [v, v, v, v];
  monitor.observe([...row(1), ...row(2)], [0, 0]);
  assert.equal(monitor.snapshot().windowRows, 2);
  close(monitor.snapshot().features[0].mean, 1.5, 'mean of 2 rows');
  monitor.observe([...row(3), ...row(4)], [1, 2]);
  let snap = monitor.snapshot();
  assert.equal(snap.windowRows, 3);
  close(snap.features[1].mean, 3, 'mean of rows 2, 3, 4');
  assert.deepEqual(snap.classes.shares, [1 / 3, 1 / 3, 1 / 3]);
  // Five rows in one call: only the last three stay.
  monitor.observe([10, 20, 30, 40, 50].flatMap(row), [0, 0, 1, 1, 1]);
  snap = monitor.snapshot();
  assert.equal(snap.windowRows, 3);
  close(snap.features[3].mean, 40, 'mean of rows 30, 40, 50');
  assert.deepEqual(snap.classes.shares, [0, 1, 0]);
});

/** One feature, uniform on [0, 10] in training: deciles 1…9, so F_train(x) = x / 10. */
const tiny: TrainingReference = {
  rows: 100,
  features: [
    {
      name: 'x',
      kind: 'numeric',
      count: 100,
      mean: 5,
      std: 2.9,
      min: 0,
      max: 10,
      quantiles: [1, 2, 3, 4, 5, 6, 7, 8, 9],
      binEdges: [0, 2.5, 5, 7.5, 10],
      binShares: [0.1, 0.2, 0.3, 0.4],
    },
  ],
  classShares: [0.5, 0.5, 0],
};

test('PSI, KS and JS match hand-computed values on a tiny window', () => {
  const monitor = new DriftMonitor(tiny, ['x'], ['p', 'q', 'r']);
  // Bins: −5 (below the first edge) and 1 → bin 0; none in bin 1; 6 → bin 2; 12 (above the last edge) → bin 3.
  monitor.observe([-5, 1, 6, 12], [0, 1, 2, 2]);
  const snap = monitor.snapshot();
  const [x] = snap.features;
  const e = PSI_EPSILON;
  const expectedPsi =
    (0.5 - 0.1) * Math.log(0.5 / 0.1) +
    (e - 0.2) * Math.log(e / 0.2) +
    (0.25 - 0.3) * Math.log(0.25 / 0.3) +
    (0.25 - 0.4) * Math.log(0.25 / 0.4);
  close(x.psi, expectedPsi, 'feature psi');
  close(x.psi, 2.242812188862661, 'feature psi, numerically (Python)');
  // ECDF steps: at −5 0→¼ (F 0), at 1 ¼→½ (F 0.1), at 6 ½→¾ (F 0.6), at 12 ¾→1 (F 1): largest gap ½ − 0.1.
  close(x.ks, 0.4, 'ks');
  close(x.mean, 3.5, 'mean');

  assert.deepEqual(snap.classes.shares, [0.25, 0.25, 0.5]);
  close(snap.classes.psi, 2 * (0.25 - 0.5) * Math.log(0.25 / 0.5) + (0.5 - e) * Math.log(0.5 / e), 'class psi');
  // m = [0.375, 0.375, 0.25]; KL(train‖m) = log2(4/3); KL(window‖m) = ½·log2(2/3) + ½·log2(2).
  const divergence = 0.5 * Math.log2(4 / 3) + 0.5 * (0.5 * Math.log2(2 / 3) + 0.5);
  close(snap.classes.jensenShannon, Math.sqrt(divergence), 'js');
  close(snap.classes.jensenShannon, 0.5579230452841438, 'js, numerically (scipy jensenshannon, base 2)');
});

test('KS treats tied window values as one step and tied training deciles as a jump', () => {
  const monitor = new DriftMonitor(tiny, ['x'], ['p', 'q', 'r']);
  // ECDF jumps 0 → ¾ at 2 (F = 0.2), then ¾ → 1 at 9 (F = 0.9).
  monitor.observe([2, 2, 2, 9], [0, 0, 0, 0]);
  close(monitor.snapshot().features[0].ks, 0.55, 'ks with ties');

  // A training feature that is constant 7: the CDF jumps 0 → 1 at 7, like an all-7 window.
  const constant = trainingReference([[7], [7], [7]], [0, 1, 1], ['k'], 2);
  const same = new DriftMonitor(constant, ['k'], ['p', 'q']);
  same.observe([7, 7], [0, 1]);
  const [k] = same.snapshot().features;
  assert.equal(k.ks, 0);
  close(k.psi, 0, 'psi of a matching constant feature');
  same.observe([8, 8], [1, 1]);
  close(same.snapshot().features[0].ks, 0.5, 'ks with half the window above the constant');
});

test('psi and jensenShannon helpers', () => {
  assert.equal(psi([0.2, 0.8], [0.2, 0.8]), 0);
  assert.equal(psi([0, 0], [0, 0]), 0);
  assert.ok(Number.isFinite(psi([1, 0], [0, 1])));
  assert.equal(jensenShannon([0.3, 0.7], [0.3, 0.7]), 0);
  close(jensenShannon([1, 0], [0, 1]), 1, 'disjoint distributions');
  assert.throws(() => psi([1], [0.5, 0.5]), /psi of 1 shares against 2/);
});

test('an empty window reports zeros, not NaN', () => {
  const monitor = new DriftMonitor(reference, FEATURES, LABELS);
  monitor.observe(new Float32Array(0), []);
  const snap = monitor.snapshot();
  assert.deepEqual(snap, {
    windowRows: 0,
    windowSize: 1000,
    features: FEATURES.map((name) => ({ name, kind: 'numeric', psi: 0, ks: 0, mean: 0 })),
    classes: { labels: LABELS, shares: [0, 0, 0], psi: 0, jensenShannon: 0 },
    targets: null,
  });
});

test('snapshot is cached until the next observe', () => {
  const monitor = new DriftMonitor(tiny, ['x'], ['p', 'q', 'r']);
  monitor.observe([1], [0]);
  const first = monitor.snapshot();
  assert.equal(monitor.snapshot(), first);
  monitor.observe([9], [1]);
  const second = monitor.snapshot();
  assert.notEqual(second, first);
  assert.equal(second.windowRows, 2);
  assert.equal(first.windowRows, 1);
});

test('bad arguments throw clear errors and leave the window unchanged', () => {
  for (const size of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => new DriftMonitor(reference, FEATURES, LABELS, size), /windowSize must be a positive integer/);
  }
  assert.throws(() => new DriftMonitor(reference, ['a', 'zz'], LABELS), /no feature "zz"/);
  assert.throws(() => new DriftMonitor(reference, FEATURES, ['only', 'two']), /3 class shares for 2 class labels/);

  const monitor = new DriftMonitor(tiny, ['x'], ['p', 'q', 'r']);
  monitor.observe([1], [0]);
  assert.throws(() => monitor.observe([1, 2], [0, 3]), /predicted class 3/);
  assert.equal(monitor.snapshot().windowRows, 1);
  close(monitor.snapshot().features[0].mean, 1, 'mean after rejected batches');
  // A missing value (NaN, a nullable float sent as null) counts in the window but not in the feature's drift.
  monitor.observe([Number.NaN, 3], [0, 0]);
  assert.equal(monitor.snapshot().windowRows, 3);
  close(monitor.snapshot().features[0].mean, 2, 'mean without the missing value');
});

test('infinite values count beyond the training range', () => {
  const monitor = new DriftMonitor(tiny, ['x'], ['p', 'q', 'r']);
  monitor.observe([Number.POSITIVE_INFINITY, 5], [0, 0]);
  const [x] = monitor.snapshot().features;
  // Just below 5 the window has nothing while F = 0.5; +∞ is above the training max (F = 1) and in the last bin.
  close(x.ks, 0.5, 'ks');
  const e = PSI_EPSILON;
  close(
    x.psi,
    (e - 0.1) * Math.log(e / 0.1) + (e - 0.2) * Math.log(e / 0.2) + (0.5 - 0.3) * Math.log(0.5 / 0.3) + (0.5 - 0.4) * Math.log(0.5 / 0.4),
    'psi',
  );
});

/** A regression model over a per-column string input and a float input. */
const mixed = {
  signature: {
    schema: 2 as const,
    inputs: [
      { name: 'city', type: 'string' as const, width: 1, rank: 2 as const },
      { name: 'area', type: 'float32' as const, width: 1, rank: 2 as const },
    ],
    features: [
      { name: 'city', type: 'string' as const, input: 'city', column: 0, categories: ['lyon', 'paris'] },
      { name: 'area', type: 'float32' as const, input: 'area', column: 0, min: 0, max: 10 },
    ],
    task: 'regression' as const,
    targets: ['price'],
    valueOutput: 'variable',
  },
  reference: {
    rows: 100,
    features: [
      { name: 'city', kind: 'categorical' as const, count: 100, categories: ['lyon', 'paris'], shares: [0.5, 0.5] },
      { ...tiny.features[0], name: 'area' },
    ],
    targets: [tiny.features[0] as NumericDistribution],
  } satisfies TrainingReference,
};

function observeMixed(monitor: TypedMonitor, cities: string[], prices: number[]): Int32Array {
  const area = new Float32Array(cities.length).fill(5);
  const batch = {
    n: cities.length,
    buffers: new Map<string, Float32Array | string[]>([
      ['city', cities],
      ['area', area],
    ]),
  };
  return monitor.observe(batch, { task: 'regression', values: Float32Array.from(prices) });
}

test('categorical drift: category shares against training, unseen categories as one more bucket', () => {
  const monitor = new TypedMonitor({ ...mixed.signature, features: [...mixed.signature.features] }, mixed.reference, 100);
  const unseen = observeMixed(monitor, ['lyon', 'lyon', 'lyon', 'nice'], [1, 2, 3, 4]);
  assert.deepEqual(Array.from(unseen), [1, 0], 'one unseen city in this batch');
  const [city] = monitor.snapshot().features;
  assert.equal(city.kind, 'categorical');
  if (city.kind !== 'categorical') return;
  assert.deepEqual(city.categories, ['lyon', 'paris']);
  assert.deepEqual(city.shares, [0.75, 0]);
  close(city.unseenShare, 0.25, 'unseen share');
  close(city.psi, psi([0.75, 0, 0.25], [0.5, 0.5, 0]), 'psi with the unseen bucket');
  assert.ok(city.psi > 1, `psi ${city.psi}`);
});

test('regression drift: predictions against the training target (PSI, KS, mean, deciles)', () => {
  const monitor = new TypedMonitor(mixed.signature, mixed.reference, 100);
  observeMixed(monitor, ['lyon', 'paris', 'lyon', 'paris'], [-5, 1, 6, 12]);
  const snap = monitor.snapshot();
  assert.equal(snap.classes, null);
  const [price] = snap.targets!;
  assert.equal(price.name, 'price');
  // The same numbers as the tiny-window test above: the target is compared like a feature.
  close(price.psi, 2.242812188862661, 'psi');
  close(price.ks, 0.4, 'ks');
  close(price.mean, 3.5, 'mean');
  assert.equal(price.quantiles.length, 9);
  close(price.quantiles[4], 3.5, 'median');
  assert.deepEqual(price.binShares, [0.5, 0, 0.25, 0.25]);
  const tooMany = { task: 'regression' as const, values: new Float32Array(2) };
  assert.throws(() => monitor.observe({ n: 1, buffers: new Map() }, tooMany), /2 regression values/);
});
