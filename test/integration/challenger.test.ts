import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { AliasMove, ChallengerInfo, ModelSignature, MonitoringSnapshot, ServerStatus } from '../../common/contract';
import { openRegistry } from '../../common/registry';
import { buildModel, floatsAttr, intsAttr, ML_DOMAIN, stringAttr } from '../../pipeline/ml/onnx-model';
import { json, mlops, tempDataDir } from '../helpers/cli';
import { predictLoad } from '../helpers/load';
import { registerTyped } from '../helpers/typed-models';
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

  const CLASSES = ['Setosa', 'Versicolor', 'Virginica'];
  /** Labels both rows of requests prefix0…prefix{n-1} (`actual` from what was answered); retried until the log has them. */
  const feedback = async (n: number, prefix: string, actual: (i: number, row: number) => string) => {
    const entries = Array.from({ length: n * 2 }, (_, k) => {
      const i = Math.floor(k / 2);
      return { requestId: `${prefix}${i}`, row: k % 2, actual: actual(i, k % 2) };
    });
    await waitFor('feedback accepted', async () =>
      (await post(`${s.url}/feedback`, entries, s.apiHeaders)).status === 200 ? true : undefined,
    );
    return entries.length;
  };

  before(async () => {
    dir = tempDataDir();
    // Versions that disagree on some rows: a forest, and a logistic regression
    trainIris(dir, ['trainer=random_forest'], ['trainer=logistic_regression'], ['trainer=random_forest', 'seed=7']);
    assert.equal(mlops(dir, ['models', 'promote', 'iris', '1']).code, 0);
    s = await startTestServer(dir, { MLOPS_CANARY_MIN_LABELLED: '10' });
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
      if (spawnSync('promtool', ['--version']).status === 0) {
        const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
        assert.equal(`${check.stdout}${check.stderr}`.trim(), '', 'promtool reports nothing on the challenger series');
      }
      const monitoring = await getJson<MonitoringSnapshot>(`${s.url}/api/monitoring`, s.apiHeaders);
      assert.equal(monitoring.challenger?.serving.version, 2);
      // Shadow predictions are logged apart: feedback on the champion's answers labels the challenger's rows too.
      const labels = await feedback(20, 'shadow-', () => 'Setosa');
      const quality = await waitFor('the challenger live quality', async () => {
        const q = (await challenger())?.quality;
        return q && q.labelled === labels ? q : undefined;
      });
      assert.equal(quality.version, 2);
      assert.ok(quality.classification && quality.classification.accuracy >= 0 && quality.classification.accuracy <= 1);
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
  });

  test("a canary whose live accuracy falls below the champion's is stopped: back to shadow, an event, stopped says why", async () => {
    const events = await subscribe(s.url, s.apiHeaders);
    try {
      const answers: { version: string; labels: string[] }[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await predict(`q-${i}`);
        answers.push({ version: r.headers.get('x-model-version')!, labels: (r.body as { variety: string }[]).map((x) => x.variety) });
      }
      assert.ok(answers.some((a) => a.version === 'iris/2') && answers.some((a) => a.version === 'iris/1'));
      // The champion's answers right, every canary answer wrong (the shadow test's labels count too).
      await feedback(20, 'q-', (i, row) => {
        const { version, labels } = answers[i];
        return version === 'iris/1' ? labels[row] : CLASSES.find((c) => c !== labels[row])!;
      });
      const stopped = await waitFor('the canary stopped', async () => {
        const c = await challenger();
        return c?.stopped ? c : undefined;
      });
      assert.equal(stopped.mode, 'shadow');
      assert.match(stopped.stopped!.reason, /^live accuracy \d\.\d{3} is 0\.\d{3} below the champion's \d\.\d{3} \(more than 0\.05\)$/);
      assert.equal((await predict('q-0')).headers.get('x-model-version'), 'iris/1', 'shadow again: the champion answers');
      await waitFor('the stop event', () =>
        events.events.some((e) => e.type === 'challenger' && e.reason.startsWith('canary stopped: live accuracy')) ? true : undefined,
      );
      assert.match(await (await fetch(`${s.url}/metrics`)).text(), /mlops_challenger_canary_stops_total 1/);
    } finally {
      await events.close();
    }
    // Back to shadow for what follows (clears the stop).
    assert.equal((await api('PUT', '/api/challenger', { mode: 'shadow', share: 1 })).status, 200);
    assert.equal((await challenger())?.stopped, null);
  });

  test('a challenger added, changed, promoted and removed under 32 connections of load: zero failed requests', async () => {
    assert.equal((await api('DELETE', '/api/models/iris/aliases/challenger')).status, 200);
    assert.equal(await challenger(), null);
    const historyBefore = json<{ history: AliasMove[] }>(mlops(dir, ['models', 'show', 'iris', '--json'])).history.length;
    // Server-made request ids (a UUID each) spread the canary share.
    const load = predictLoad(s.url, 5);
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
    const [{ result, versions }] = await Promise.all([load, driver]);
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

  test('a canary that fails is answered by the champion, stopped on its error rate; shadow failures are counted, never seen', async () => {
    const served = (await getJson<ServerStatus>(`${s.url}/api/status`, s.apiHeaders)).serving!;
    const fragile = await registerFragile(dir, served.version);
    await setAlias('challenger', fragile);
    await waitFor('the fragile challenger', async () => ((await challenger())?.serving.version === fragile ? true : undefined));
    assert.equal((await api('PUT', '/api/challenger', { mode: 'canary', share: 1 })).status, 200);
    for (let i = 0; i < 20; i++) {
      const r = await predict(`fail-${i}`);
      assert.equal(r.status, 200, "a failed canary answer is the champion's");
      assert.equal(r.headers.get('x-model-version'), `iris/${served.version}`);
    }
    const stopped = (await challenger())!;
    assert.equal(stopped.mode, 'shadow');
    assert.equal(stopped.stopped?.reason, 'error rate 1.000 > 0.05 over 20 canary requests');
    assert.equal(stopped.errors, 20);
    // A newer version takes `latest` off the challenger: its aliases move, its figures and stop stay.
    assert.ok(stopped.serving.aliases.includes('latest'));
    await registerFragile(dir, served.version);
    const moved = await waitFor('latest moved on', async () => {
      const c = (await challenger())!;
      return c.serving.aliases.includes('latest') ? undefined : c;
    });
    assert.deepEqual([moved.errors, moved.stopped, moved.serving.version], [20, stopped.stopped, fragile]);
    for (let i = 0; i < 5; i++) assert.equal((await predict(`shadow-fail-${i}`)).status, 200);
    await waitFor('shadow errors counted', async () => ((await challenger())!.errors === 25 ? true : undefined));
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /mlops_challenger_canary_requests_total\{outcome="error"\} 20\n/);
    assert.match(metrics, /mlops_challenger_errors_total\{mode="shadow"\} 5\n/, metrics.match(/mlops_challenger_errors_total.*/g)?.join());
    assert.equal((await api('DELETE', '/api/models/iris/aliases/challenger')).status, 200);
  });
});

/**
 * A version of iris that takes the same input and passes the server's checks and its one-row warm-up,
 * but fails on two rows: Squeeze drops the batch dimension only when it is 1, so [2, 4] reaches the
 * classifier as [1, 2, 4]. Registered straight into the registry; returns its version.
 */
async function registerFragile(dataDir: string, like: number): Promise<number> {
  const registry = await openRegistry({ dataDir });
  const v = await registry.models.version('iris', like);
  await registry.close();
  const s = v.signature as ModelSignature & { task: 'classification' };
  const onnx = buildModel({
    name: 'fragile',
    inputs: [{ name: s.inputs[0].name, type: 'float32', dims: [4] }],
    outputs: [
      { name: s.labelOutput, type: 'int64', dims: [] },
      { name: s.probabilitiesOutput!, type: 'float32', dims: [3] },
    ],
    nodes: [
      { opType: 'Constant', domain: '', inputs: [], outputs: ['axes'], attributes: [intsAttr('value_ints', [0])] },
      { opType: 'Squeeze', domain: '', inputs: [s.inputs[0].name], outputs: ['squeezed'], attributes: [] },
      { opType: 'Unsqueeze', domain: '', inputs: ['squeezed', 'axes'], outputs: ['batched'], attributes: [] },
      {
        opType: 'LinearClassifier',
        domain: ML_DOMAIN,
        inputs: ['batched'],
        outputs: [s.labelOutput, s.probabilitiesOutput!],
        attributes: [
          floatsAttr('coefficients', [0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 1, 0]),
          floatsAttr('intercepts', [2.5, 0, -4.5]),
          intsAttr('classlabels_ints', [0, 1, 2]),
          stringAttr('post_transform', 'SOFTMAX'),
        ],
      },
    ],
  });
  return (await registerTyped(dataDir, 'iris', { onnx, signature: s, reference: v.reference })).version;
}
