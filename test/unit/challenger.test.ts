import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChallengerInfo, LiveQuality, ModelSignature, ServingInfo } from '../../common/contract';
import { challengerRows } from '../../media/metrics/challenger-view';
import { agreeing, canaryProblem, hashShare } from '../../server/loop/challenger';
import { loadChallengerSettings } from '../../server/loop/challenger-config';

test('hashShare: the same id always lands on the same side; ids spread evenly over [0, 1)', () => {
  assert.equal(hashShare('abc'), hashShare('abc'));
  const shares = Array.from({ length: 4000 }, (_, i) => hashShare(`req-${i}`));
  assert.ok(shares.every((x) => x >= 0 && x < 1));
  for (const cut of [0.1, 0.5, 0.9]) {
    const below = shares.filter((x) => x < cut).length / shares.length;
    assert.ok(Math.abs(below - cut) < 0.03, `${below} of sequential ids below ${cut}`);
  }
});

const classifier = (labels: string[]) => ({ task: 'classification', classLabels: labels }) as unknown as ModelSignature;

test('agreeing: classes compared by label (the versions may order them differently); values within 1%', () => {
  const a = { task: 'classification' as const, classes: Int32Array.from([0, 1, 2]), probabilities: null };
  const b = { task: 'classification' as const, classes: Int32Array.from([1, 0, 0]), probabilities: null };
  assert.equal(agreeing(classifier(['x', 'y', 'z']), a, classifier(['y', 'x', 'z']), b), 2);
  const reg = { task: 'regression', targets: ['p', 'q'] } as unknown as ModelSignature;
  const va = { task: 'regression' as const, values: Float32Array.from([100, 1, 0, 0, 5, 5]) };
  const vb = { task: 'regression' as const, values: Float32Array.from([100.5, 1, 0.005, 0, 5, 6]) };
  assert.equal(agreeing(reg, va, reg, vb), 2, 'row 3 differs on its second target');
});

const limits = loadChallengerSettings({}).canary;
const quality = (labelled: number, accuracy: number): LiveQuality => ({
  model: 'iris',
  version: 1,
  labelled,
  windowSize: 1000,
  classification: { accuracy, macroF1: accuracy, recall: {} },
  regression: null,
  labelDelayMs: null,
});
test('canaryProblem: error rate over enough canary answers; live accuracy too far below the champion', () => {
  assert.equal(canaryProblem({ canaryRequests: 19, canaryErrors: 19 }, limits, null, null), null, 'too few answers yet');
  assert.equal(canaryProblem({ canaryRequests: 100, canaryErrors: 5 }, limits, null, null), null, '0.05 is not above 0.05');
  assert.equal(
    canaryProblem({ canaryRequests: 100, canaryErrors: 6 }, limits, null, null),
    'error rate 0.060 > 0.05 over 100 canary requests',
  );
  const ok = { canaryRequests: 100, canaryErrors: 0 };
  assert.equal(canaryProblem(ok, limits, quality(49, 0.5), quality(200, 0.95)), null, 'too few labels yet');
  assert.equal(canaryProblem(ok, limits, quality(60, 0.91), quality(200, 0.95)), null, 'within the drop');
  assert.equal(
    canaryProblem(ok, limits, quality(60, 0.85), quality(200, 0.95)),
    "live accuracy 0.850 is 0.100 below the champion's 0.950 (more than 0.05)",
  );
});

test('challenger settings: defaults, the canary share default, and bad values named', () => {
  const d = loadChallengerSettings({});
  assert.deepEqual([d.alias, d.mode, d.share], ['challenger', 'shadow', 1]);
  assert.equal(loadChallengerSettings({ MLOPS_CHALLENGER_MODE: 'canary' }).share, 0.1);
  assert.throws(
    () => loadChallengerSettings({ MLOPS_CHALLENGER_MODE: 'blue' }),
    /MLOPS_CHALLENGER_MODE must be shadow or canary, got 'blue'/,
  );
  assert.throws(
    () => loadChallengerSettings({ MLOPS_CHALLENGER_SHARE: '1.5' }),
    /MLOPS_CHALLENGER_SHARE must be a number from 0 to 1, got '1.5'/,
  );
  assert.throws(() => loadChallengerSettings({ MLOPS_CHALLENGER_ALIAS: 'latest' }), /invalid alias 'latest'/);
});

test('the webview rows: both versions side by side, the mode in words, a stop with its reason', () => {
  const serving = (version: number) => ({ model: 'iris', version, selector: version === 1 ? 'production' : 'challenger' }) as ServingInfo;
  const info = {
    alias: 'challenger',
    mode: 'shadow',
    share: 1,
    serving: serving(2),
    stopped: { at: '2026-12-02T06:00:00.000Z', reason: 'error rate 0.100 > 0.05 over 20 canary requests' },
    agreement: 0.9,
    comparedRows: 40,
    latencyMs: { p50: 0.5, p95: 1.25 },
    errors: 2,
    quality: quality(60, 0.85),
  } satisfies ChallengerInfo;
  const rows = Object.fromEntries(
    challengerRows(info, { serving: serving(1), latencyMs: { p50: 1, p95: 2 }, quality: null }).map(([k, a, b]) => [k, [a, b]]),
  );
  assert.deepEqual(rows.version, ['iris v1', 'iris v2']);
  assert.deepEqual(rows.mode, ['answers', 'shadow: runs beside 100.0% of requests']);
  assert.deepEqual(rows.agreement, ['', '90.0% of 40 rows']);
  assert.deepEqual(rows['latency p50 / p95'], ['1.00 / 2.00 ms', '0.50 / 1.25 ms']);
  assert.deepEqual(rows['live quality'], ['-', 'accuracy 85.0%, macro F1 0.850 over 60 labels']);
  assert.deepEqual(rows['canary stopped'], ['', '2026-12-02 06:00:00: error rate 0.100 > 0.05 over 20 canary requests']);
});
