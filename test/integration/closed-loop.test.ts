import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AlertState, ChallengerInfo, MonitoringSnapshot } from '../../common/contract';
import { mlops, tempDataDir } from '../helpers/cli';
import { predictLoad } from '../helpers/load';
import { irisRows } from '../helpers/loop';
import { getJson, post, startTestServer, trainIris, waitFor, type TestServer } from '../helpers/server';
import { subscribe } from '../helpers/sse';

// The whole loop in one server (issue 15): predictions whose inputs shifted, their true labels as
// feedback, the drift and quality alerts firing, a retraining started by the alert from the labelled
// log, its version as the challenger in shadow and then canary under load with no failed request,
// promoted, and the alias history holding every step.

/** The iris rows moved to a region of their own (the sensor changed): same flowers, same labels, other numbers. */
const SHIFTED = irisRows({ sepal_width: 4, petal_length: 3, petal_width: 1 });
const BATCH = 10;

describe('the closed loop: shift, feedback, alerts, retraining, challenger, promotion', () => {
  let dir = '';
  let s: TestServer;
  const alertsFile = () => path.join(dir, 'mlops-alerts.json');

  before(async () => {
    dir = tempDataDir();
    trainIris(dir);
    assert.equal(mlops(dir, ['models', 'promote', 'iris', '1']).code, 0);
    const rules = {
      drift_psi: { windows: 2, minRows: 50 },
      drift_ks: { enabled: false },
      quality_accuracy: { threshold: 0.8, minLabelled: 100 },
      error_rate: { enabled: false },
      latency_p95: { enabled: false },
    };
    // Evaluated by the test (engine.evaluate()), not by the clock.
    fs.writeFileSync(alertsFile(), JSON.stringify({ intervalSec: 3600, rules }));
    s = await startTestServer(dir, { MLOPS_ALERTS_FILE: alertsFile(), MLOPS_RETRAIN_ON_ALERT: 'true' });
  });
  after(() => s.close());

  test('the loop', { timeout: 180_000 }, async () => {
    const events = await subscribe(s.url, s.apiHeaders);
    try {
      // 1. Shifted predictions, answered by the champion (version 1), and their true labels.
      const feedback: { requestId: string; row: number; actual: string }[] = [];
      for (let i = 0; i < SHIFTED.length; i += BATCH) {
        const requestId = `shift-${i}`;
        const batch = SHIFTED.slice(i, i + BATCH);
        const res = await post(
          `${s.url}/predict`,
          batch.map((b) => b.record),
          { 'x-request-id': requestId },
        );
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('x-model-version'), 'iris/1');
        batch.forEach((b, row) => feedback.push({ requestId, row, actual: b.label }));
      }
      const stored = await waitFor('feedback stored', async () => {
        const r = await post(`${s.url}/feedback`, feedback, s.apiHeaders);
        return r.status === 200 ? r.body : undefined; // predictions reach the log within its flush interval
      });
      assert.deepEqual(stored, { accepted: SHIFTED.length, duplicates: 0 });
      const quality = await waitFor('live quality of version 1', async () => {
        const m = await getJson<MonitoringSnapshot>(`${s.url}/api/monitoring`, s.apiHeaders);
        return m.quality && m.quality.labelled === SHIFTED.length ? m.quality : undefined;
      });
      assert.ok(quality.classification!.accuracy < 0.8, `the champion is wrong on the shifted rows: ${quality.classification!.accuracy}`);

      // 2. Alerts: live quality fires at the first evaluation, drift at the second; the first one starts the retraining.
      const first = s.alerts.engine.evaluate();
      assert.deepEqual(
        first.map((a) => [a.rule, a.firing]),
        [['quality_accuracy', true]],
      );
      const second = s.alerts.engine.evaluate();
      assert.deepEqual(
        second.map((a) => [a.rule, a.firing]),
        [['drift_psi', true]],
      );
      assert.match(second[0].message, /^PSI of \w+ [\d.]+ > 0\.25 over 150 rows for 2 windows$/);
      const fired = await waitFor('both alert events', () => {
        const alerts = events.events.flatMap((e) => (e.type === 'alert' ? [e.alert] : []));
        return alerts.length === 2 ? alerts : undefined;
      });
      assert.deepEqual(
        fired.map((a: AlertState) => a.rule),
        ['quality_accuracy', 'drift_psi'],
      );

      // 3. The retraining: the champion's pipeline on its data plus the 150 labelled rows; its version becomes the challenger.
      const retraining = await waitFor('the retraining', () => s.retrainer.current() ?? undefined);
      const outcome = await retraining.done;
      assert.deepEqual(outcome.challenger, { model: 'iris', version: 2 }, `run ${outcome.runId}: ${outcome.status}`);
      const run = await s.registry.runs.get(outcome.runId);
      assert.equal(run.trigger, 'alert:quality_accuracy');
      const data = fs.readFileSync(String(run.params.data), 'utf8').trim().split('\n');
      assert.equal(data.length, 1 + 150 + SHIFTED.length, 'header, the iris rows, the labelled rows');
      assert.equal(s.holder.current()?.info.version, 1, 'the champion still answers');

      // 4. Shadow, then canary, then promotion, under load: no request fails.
      const challenger = () => getJson<ChallengerInfo | null>(`${s.url}/api/challenger`, s.apiHeaders);
      const loaded = await waitFor('the challenger in shadow', async () => {
        const c = await challenger();
        return c?.serving.version === 2 ? c : undefined;
      });
      assert.equal(loaded.mode, 'shadow');
      const api = (method: string, route: string, body: unknown) =>
        fetch(`${s.url}${route}`, { method, headers: { ...s.apiHeaders, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const load = predictLoad(s.url, 6, 16);
      const pause = () => new Promise((r) => setTimeout(r, 1500));
      const driver = (async () => {
        await pause();
        const shadow = await challenger();
        assert.ok(shadow && shadow.comparedRows > 0, 'shadow compares rows');
        assert.notEqual(shadow.agreement, null);
        const canary = await api('PUT', '/api/challenger', { mode: 'canary', share: 0.5 });
        assert.equal(canary.status, 200);
        await pause();
        const promoted = await api('POST', '/api/challenger/promote', { by: 'closed-loop test' });
        assert.equal(promoted.status, 200);
      })();
      const [{ result, versions }] = await Promise.all([load, driver]);
      assert.ok(result.requests.total > 100, `requests: ${result.requests.total}`);
      assert.equal(result.errors, 0, 'connection errors');
      assert.equal(result.non2xx, 0, 'non-2xx answers');
      assert.equal(result.timeouts, 0);
      assert.ok(versions.has('iris/1') && versions.has('iris/2'), [...versions].join());
      assert.equal(s.holder.current()?.info.version, 2, 'the retrained version is the champion');
      assert.equal(await challenger(), null);

      // 5. The alias history: every step, by whom.
      const history = (await s.registry.models.history('iris')).map((m) => [m.alias, m.fromVersion, m.toVersion, m.removed ?? false, m.by]);
      assert.deepEqual(history, [
        ['production', null, 1, false, 'cli'],
        ['challenger', null, 2, false, 'retrain of version 1'],
        ['production', 1, 2, false, 'closed-loop test'],
        ['challenger', 2, 2, true, 'closed-loop test'],
      ]);
    } finally {
      await events.close();
    }
  });
});
