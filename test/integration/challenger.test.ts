import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import autocannon from 'autocannon';
import type { AliasMove, ChallengerInfo, MonitoringSnapshot } from '../../common/contract';
import { json, mlops, tempDataDir } from '../helpers/cli';
import { SAMPLE, getJson, post, startTestServer, trainIris, waitFor, type TestServer } from '../helpers/server';
import { subscribe } from '../helpers/sse';

const SIDE = 'x-mlops-side';

describe('challenger: shadow, canary, promote', () => {
  let s: TestServer;
  let dir: string;
  const challenger = () => getJson<ChallengerInfo | null>(`${s.url}/api/challenger`, s.apiHeaders);
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${s.url}${path}`, {
      method,
      headers: { ...s.apiHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const setAlias = async (alias: string, version: number) =>
    assert.equal((await api('PUT', `/api/models/iris/aliases/${alias}`, { version })).status, 200);
  const predict = (id: string, headers: Record<string, string> = {}) =>
    post(`${s.url}/predict`, SAMPLE, { 'x-request-id': id, ...headers });

  before(async () => {
    dir = tempDataDir();
    // Versions that disagree on some rows: a forest, and a logistic regression
    trainIris(dir, ['trainer=random_forest'], ['trainer=logistic_regression'], ['trainer=random_forest', 'seed=7']);
    assert.equal(mlops(dir, ['models', 'promote', 'iris', '1']).code, 0);
    s = await startTestServer(dir, { MLOPS_CANARY_MIN_REQUESTS: '5' });
  });
  after(() => s.close());

  test('without a challenger alias there is none, and changing its mode is a 404 that says how to set one', async () => {
    assert.equal(await challenger(), null);
    const res = await api('PUT', '/api/challenger', { mode: 'canary' });
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: string }).error, /no challenger alias: set one first \(mlops models promote iris/);
    assert.equal((await getJson<MonitoringSnapshot>(`${s.url}/api/monitoring`, s.apiHeaders)).challenger, null);
  });

  test('shadow: a challenger set from the CLI is loaded; callers get the champion; agreement and latency are reported', async () => {
    const events = await subscribe(s.url, s.apiHeaders);
    try {
      assert.equal(mlops(dir, ['models', 'promote', 'iris', '2', '--alias', 'challenger']).code, 0);
      const info = await waitFor('challenger loaded', async () => (await challenger()) ?? undefined, 3000);
      assert.deepEqual([info.alias, info.mode, info.share, info.serving.version], ['challenger', 'shadow', 1, 2]);
      for (let i = 0; i < 20; i++) {
        const r = await predict(`shadow-${i}`);
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('x-model-version'), 'iris/1', 'shadow never answers');
      }
      const after = await waitFor('40 rows compared', async () => {
        const c = await challenger();
        return c && c.comparedRows >= 40 ? c : undefined;
      });
      assert.ok(after.agreement !== null && after.agreement >= 0 && after.agreement <= 1);
      assert.ok(after.latencyMs && after.latencyMs.p95 >= after.latencyMs.p50);
      assert.equal(after.errors, 0);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      assert.match(metrics, /mlops_challenger_agreement_ratio\{model="iris",version="2"\} [0-9.]+/);
      assert.match(metrics, /mlops_challenger_compared_rows_total [1-9]\d+/);
      assert.match(metrics, /mlops_challenger_latency_seconds_count [1-9]/);
      const monitoring = await getJson<MonitoringSnapshot>(`${s.url}/api/monitoring`, s.apiHeaders);
      assert.equal(monitoring.challenger?.serving.version, 2);
      await waitFor('challenger events', () =>
        events.events.some((e) => e.type === 'challenger' && e.reason === 'loaded' && e.challenger?.serving.version === 2) &&
        events.events.some((e) => e.type === 'challenger' && e.reason === 'stats')
          ? true
          : undefined,
      );
    } finally {
      await events.close();
    }
  });

  test('canary: a sticky share by request id, a header picks the side, x-model-version says who answered', async () => {
    const bad = await api('PUT', '/api/challenger', { mode: 'canary', share: 2 });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /challenger share must be a number from 0 to 1, got 2/);
    const set = await api('PUT', '/api/challenger', { mode: 'canary', share: 0.5 });
    assert.equal(set.status, 200);
    assert.deepEqual([((await set.json()) as ChallengerInfo).mode, (await challenger())!.share], ['canary', 0.5]);
    const answered: Record<string, string> = {};
    for (let i = 0; i < 60; i++) answered[`req-${i}`] = (await predict(`req-${i}`)).headers.get('x-model-version')!;
    const byChallenger = Object.values(answered).filter((v) => v === 'iris/2').length;
    assert.ok(byChallenger > 10 && byChallenger < 50, `challenger answered ${byChallenger} of 60`);
    for (const id of ['req-1', 'req-2', 'req-3', 'req-4']) {
      assert.equal((await predict(id)).headers.get('x-model-version'), answered[id], `${id} is sticky`);
    }
    assert.equal((await predict('req-1', { [SIDE]: 'challenger' })).headers.get('x-model-version'), 'iris/2');
    assert.equal((await predict('req-1', { [SIDE]: 'champion' })).headers.get('x-model-version'), 'iris/1');
    const oip = await post(
      `${s.url}/v2/models/iris/infer`,
      {
        inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [6.7, 3.5, 5.2, 2.3] }],
      },
      { [SIDE]: 'challenger' },
    );
    assert.equal(oip.status, 200, JSON.stringify(oip.body));
    assert.equal((oip.body as { model_version: string }).model_version, '2');
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /mlops_challenger_canary_requests_total\{outcome="ok"\} [1-9]/);
    assert.match(metrics, /mlops_predictions_total\{model="iris",version="2",class="[^"]+"\} [1-9]/);
    // Back to shadow for what follows.
    assert.equal((await api('PUT', '/api/challenger', { mode: 'shadow', share: 1 })).status, 200);
  });

  test('a challenger added, changed, promoted and removed under 32 connections of load: zero failed requests', async () => {
    assert.equal((await api('DELETE', '/api/models/iris/aliases/challenger')).status, 200);
    assert.equal(await challenger(), null);
    const historyBefore = json<{ history: AliasMove[] }>(mlops(dir, ['models', 'show', 'iris', '--json'])).history.length;
    const versions = new Set<string>();
    const load = autocannon({
      url: `${s.url}/predict`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(SAMPLE),
      connections: 32,
      duration: 5,
      // A request id per request, so that the canary share spreads (autocannon otherwise sends none)
      requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'x-request-id': `load-${Math.random()}` } }) }],
      setupClient: (client) =>
        client.on('headers', (h) => {
          const headers = (h as unknown as { headers: string[] }).headers;
          const i = headers.findIndex((x, k) => k % 2 === 0 && x.toLowerCase() === 'x-model-version');
          if (i >= 0) versions.add(headers[i + 1]);
        }),
    });
    const pause = () => new Promise((r) => setTimeout(r, 500));
    const steps: string[] = [];
    const driver = (async () => {
      await pause();
      await setAlias('challenger', 2); // added
      await waitFor('challenger 2', async () => ((await challenger())?.serving.version === 2 ? true : undefined));
      steps.push('added');
      await pause();
      assert.equal((await api('PUT', '/api/challenger', { mode: 'canary', share: 0.5 })).status, 200);
      steps.push('canary');
      await pause();
      await setAlias('challenger', 3); // changed
      await waitFor('challenger 3', async () => ((await challenger())?.serving.version === 3 ? true : undefined));
      steps.push('changed');
      await pause();
      const promoted = await api('POST', '/api/challenger/promote', { by: 'test' });
      assert.equal(promoted.status, 200);
      assert.deepEqual(
        ((await promoted.json()) as AliasMove[]).map((m) => [m.alias, m.toVersion, m.removed ?? false]),
        [
          ['production', 3, false],
          ['challenger', 3, true],
        ],
      );
      steps.push('promoted');
      await pause();
      await setAlias('challenger', 1);
      await waitFor('challenger 1', async () => ((await challenger())?.serving.version === 1 ? true : undefined));
      await pause();
      assert.equal((await api('DELETE', '/api/models/iris/aliases/challenger')).status, 200); // removed
      steps.push('removed');
    })();
    const [result] = await Promise.all([load, driver]);
    assert.deepEqual(steps, ['added', 'canary', 'changed', 'promoted', 'removed']);
    assert.ok(result.requests.total > 500, `requests: ${result.requests.total}`);
    assert.equal(result.errors, 0, 'connection errors');
    assert.equal(result.non2xx, 0, 'non-2xx responses');
    assert.equal(result.timeouts, 0);
    assert.ok(versions.has('iris/1') && versions.has('iris/3'), [...versions].join());
    assert.equal(await challenger(), null);
    const history = json<{ history: AliasMove[] }>(mlops(dir, ['models', 'show', 'iris', '--json'])).history.slice(historyBefore);
    assert.deepEqual(
      history.map((h) => [h.alias, h.fromVersion, h.toVersion, h.removed ?? false]),
      [
        ['challenger', null, 2, false],
        ['challenger', 2, 3, false],
        ['production', 1, 3, false],
        ['challenger', 3, 3, true],
        ['challenger', null, 1, false],
        ['challenger', 1, 1, true],
      ],
    );
  });

  test('mlops models promote --from challenger: the server serves the challenger within 2 s and drops it', async () => {
    await setAlias('challenger', 2);
    await waitFor('challenger 2', async () => ((await challenger())?.serving.version === 2 ? true : undefined));
    const r = mlops(dir, ['models', 'promote', 'iris', '--from', 'challenger']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'iris@production: 3 → 2\niris@challenger: 2 → (removed)\n');
    await waitFor(
      'version 2 served',
      async () => ((await predict('after')).headers.get('x-model-version') === 'iris/2' ? true : undefined),
      2000,
    );
    assert.equal(await challenger(), null);
    const again = mlops(dir, ['models', 'promote', 'iris', '--from', 'challenger']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /model 'iris' has no challenger alias: set one first/);
    const history = mlops(dir, ['models', 'history', 'iris']).stdout;
    assert.match(history, /challenger │ 2 +│ \(removed\) │ cli/);
  });
});
