import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AlertState, MonitoringSnapshot } from '../../common/contract';
import { tempDataDir } from '../helpers/cli';
import { logLines } from '../helpers/loop';
import { getJson, post, startTestServer, trainIris, waitFor, type TestServer } from '../helpers/server';
import { subscribe } from '../helpers/sse';

// The alert rules in the real server: shifted inputs make the drift rule fire (an SSE event, the gauge,
// a log line, /api/monitoring), the alerts file is re-read when it changes and an invalid one is refused.
const SHIFTED = { sepal_length: 7.9, sepal_width: 2.0, petal_length: 6.9, petal_width: 2.5 };
const off = {
  drift_ks: { enabled: false },
  quality_accuracy: { enabled: false },
  error_rate: { enabled: false },
  latency_p95: { enabled: false },
};

describe('alerts in the server', () => {
  let dir = '';
  let file = '';
  let server: TestServer;
  const { lines, stream: logStream } = logLines();
  const writeRules = (rules: unknown) => fs.writeFileSync(file, JSON.stringify({ intervalSec: 3600, rules }));
  const gauge = async () =>
    (await fetch(`${server.url}/metrics`).then((r) => r.text())).match(/^mlops_alert_active\{rule="drift_psi"\} (\d)$/m)?.[1];

  before(async () => {
    dir = tempDataDir();
    trainIris(dir);
    file = path.join(dir, 'mlops-alerts.json');
    writeRules({ ...off, drift_psi: { threshold: 0.2, windows: 2, minRows: 20 } });
    server = await startTestServer(dir, { MLOPS_ALERTS_FILE: file }, { level: 'info', stream: logStream });
  });
  after(() => server.close());

  test('drift fires after two windows of shifted inputs: event, gauge, log line and monitoring', async () => {
    const events = await subscribe(server.url, server.apiHeaders);
    try {
      const res = await post(
        `${server.url}/predict`,
        Array.from({ length: 30 }, () => SHIFTED),
      );
      assert.equal(res.status, 200);
      assert.equal(await gauge(), '0');
      assert.deepEqual(server.alerts.engine.evaluate(), []);
      const [fired] = server.alerts.engine.evaluate();
      assert.equal(fired.rule, 'drift_psi');
      assert.match(fired.message, /^PSI of \w+ [\d.]+ > 0\.2 over 30 rows for 2 windows$/);
      const event = await waitFor('the alert event', () => events.events.find((e) => e.type === 'alert'));
      assert.deepEqual(event, { type: 'alert', alert: fired });
      assert.equal(await gauge(), '1');
      assert.ok(
        lines.some((l) => /"level":40.*"msg":"alert drift_psi firing: PSI of/.test(l)),
        'a warning in the log',
      );
      const monitoring = await getJson<MonitoringSnapshot>(`${server.url}/api/monitoring`, server.apiHeaders);
      assert.deepEqual(
        monitoring.alerts.map((a: AlertState) => [a.rule, a.firing]),
        [['drift_psi', true]],
      );
    } finally {
      await events.close();
    }
  });

  test('the alerts file is re-read on change; an invalid one is a log line and the last good rules stay', async () => {
    writeRules({ ...off, drift_psi: { threshold: 50, windows: 2, minRows: 20 } });
    await waitFor('the new threshold', () => (server.alerts.list()[0]?.threshold === 50 ? true : undefined));
    const [resolved] = server.alerts.engine.evaluate();
    assert.equal(resolved.firing, false);
    assert.match(resolved.message, /^resolved: PSI of \w+ [\d.]+ ≤ 50 over 30 rows$/);
    assert.equal(await gauge(), '0');

    fs.writeFileSync(file, '{"rules": {"drift_psi": {"threshold": -1}}}');
    const line = await waitFor('the log line', () => lines.find((l) => l.includes('keeping the previous rules')));
    assert.match(line, /mlops-alerts\.json: rules\.drift_psi\.threshold: must be a number from 0 .* got -1; keeping the previous rules/);
    assert.equal(server.alerts.list()[0].threshold, 50);
    assert.equal(server.alerts.list().length, 1);
  });
});
