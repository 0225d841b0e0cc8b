import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertState, DriftSnapshot, LiveQuality } from '../../common/contract';
import { AlertEngine } from '../../server/alerts/engine';
import { parseAlertsConfig } from '../../server/alerts/rules';

/** Inputs the test sets by hand: the engine only reads the snapshots. */
class Inputs {
  psi = 0;
  rows = 500;
  accuracy: number | null = null;
  labelled = 100;
  drift(): DriftSnapshot {
    const feature = { name: 'petal_length', kind: 'numeric' as const, psi: this.psi, ks: this.psi / 2, mean: 1 };
    return { windowRows: this.rows, windowSize: 1000, features: [feature], classes: null, targets: null };
  }
  quality(): LiveQuality | null {
    if (this.accuracy === null) return null;
    const classification = { accuracy: this.accuracy, macroF1: this.accuracy, recall: {} };
    return { model: 'iris', version: 1, labelled: this.labelled, windowSize: 500, classification, regression: null, labelDelayMs: null };
  }
}

function engine(rules: unknown) {
  const inputs = new Inputs();
  const events: AlertState[] = [];
  const config = parseAlertsConfig(JSON.stringify({ rules }), 'alerts.json');
  return { inputs, events, engine: new AlertEngine(inputs, config, (s) => events.push(s)) };
}

const off = {
  drift_ks: { enabled: false },
  quality_accuracy: { enabled: false },
  error_rate: { enabled: false },
  latency_p95: { enabled: false },
};

test('drift fires after K consecutive windows over the threshold, and resolves at the first one under it', () => {
  const { inputs, events, engine: e } = engine({ ...off, drift_psi: { threshold: 0.2, windows: 3 } });
  inputs.psi = 0.5;
  assert.deepEqual(e.evaluate(), []);
  inputs.psi = 0.1; // a window under the threshold starts the count again
  e.evaluate();
  inputs.psi = 0.5;
  e.evaluate();
  e.evaluate();
  assert.equal(events.length, 0);
  const [fired] = e.evaluate(new Date('2026-12-02T06:00:00Z'));
  assert.equal(fired.rule, 'drift_psi');
  assert.equal(fired.firing, true);
  assert.equal(fired.since, '2026-12-02T06:00:00.000Z');
  assert.equal(fired.value, 0.5);
  assert.equal(fired.message, 'PSI of petal_length 0.5 > 0.2 over 500 rows for 3 windows');
  assert.deepEqual(e.evaluate(), [], 'still firing: no new event');
  inputs.psi = 0.05;
  const [resolved] = e.evaluate();
  assert.equal(resolved.firing, false);
  assert.equal(resolved.message, 'resolved: PSI of petal_length 0.05 ≤ 0.2 over 500 rows');
  assert.equal(events.length, 2);
});

test('too few rows in the drift window is no evidence: nothing fires, a firing rule resolves', () => {
  const { inputs, engine: e } = engine({ ...off, drift_psi: { windows: 1, minRows: 100 } });
  inputs.psi = 0.9;
  inputs.rows = 99;
  assert.deepEqual(e.evaluate(), []);
  assert.equal(e.list()[0].message, 'not enough data');
  inputs.rows = 100;
  assert.equal(e.evaluate()[0].firing, true);
  inputs.rows = 0; // a swap starts an empty window
  assert.equal(e.evaluate()[0].message, 'resolved: not enough data');
});

test('live quality fires below its threshold once enough rows are labelled', () => {
  const { inputs, engine: e } = engine({ ...off, drift_psi: { enabled: false }, quality_accuracy: { threshold: 0.8, minLabelled: 50 } });
  assert.deepEqual(e.evaluate(), [], 'no feedback: nothing to say');
  inputs.accuracy = 0.6;
  inputs.labelled = 49;
  assert.deepEqual(e.evaluate(), []);
  inputs.labelled = 60;
  const [fired] = e.evaluate();
  assert.equal(fired.message, 'live accuracy 0.6 < 0.8 over 60 labelled rows');
  inputs.accuracy = 0.9;
  assert.equal(e.evaluate()[0].message, 'resolved: live accuracy 0.9 ≥ 0.8 over 60 labelled rows');
});

test('error rate counts the requests of the window; latency takes their 95th percentile', () => {
  const { engine: e } = engine({
    drift_psi: { enabled: false },
    drift_ks: { enabled: false },
    quality_accuracy: { enabled: false },
    error_rate: { threshold: 0.05, windows: 1, minRequests: 20 },
    latency_p95: { threshold: 100, windows: 1, minRequests: 20 },
  });
  for (let i = 0; i < 19; i++) e.request(500, false);
  assert.deepEqual(e.evaluate(), [], '19 requests are too few');
  for (let i = 0; i < 90; i++) e.request(10, true);
  for (let i = 0; i < 10; i++) e.request(200, false);
  const fired = e.evaluate();
  assert.deepEqual(
    fired.map((s) => [s.rule, s.firing]),
    [
      ['error_rate', true],
      ['latency_p95', true],
    ],
  );
  assert.equal(fired[0].value, 0.1, 'the window holds only the last 100 requests');
  assert.equal(fired[1].value, 200);
  for (let i = 0; i < 100; i++) e.request(10, true);
  assert.deepEqual(
    e.evaluate().map((s) => [s.rule, s.firing]),
    [
      ['error_rate', false],
      ['latency_p95', false],
    ],
  );
});

test('new rules keep the state of the rules kept; a firing rule that is removed resolves', () => {
  const { inputs, events, engine: e } = engine({ ...off, drift_psi: { windows: 1 } });
  inputs.psi = 0.9;
  e.evaluate();
  e.setConfig(parseAlertsConfig(JSON.stringify({ rules: { ...off, drift_psi: { windows: 1, threshold: 0.5 } } }), 'a.json'));
  assert.equal(e.list()[0].firing, true);
  assert.equal(e.list()[0].threshold, 0.5);
  e.setConfig(parseAlertsConfig(JSON.stringify({ rules: { ...off, drift_psi: { enabled: false } } }), 'a.json'));
  assert.deepEqual(e.list(), []);
  assert.deepEqual(
    events.map((s) => [s.rule, s.firing, s.message]),
    [
      ['drift_psi', true, 'PSI of petal_length 0.9 > 0.25 over 500 rows'],
      ['drift_psi', false, 'resolved: the rule was removed'],
    ],
  );
});
