import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { AlertState, RetrainResponse, RunRecord } from '../../common/contract';
import { mlopsAsync, tempDataDir } from '../helpers/cli';
import { logLines } from '../helpers/loop';
import { post, startTestServer, trainIris, waitFor, type TestServer } from '../helpers/server';

// Retraining in the real server: the runner trains the served version's pipeline again, the new
// version becomes the challenger (never the champion), one at a time, and alerts respect the cool-down.
const alert = (rule: string): AlertState => ({ rule, kind: 'drift', firing: true, since: null, value: 1, threshold: 0.2, message: '' });

describe('retraining', () => {
  let dir = '';
  let server: TestServer;
  const { lines, stream: logStream } = logLines();

  before(async () => {
    dir = tempDataDir();
    trainIris(dir);
    server = await startTestServer(
      dir,
      { MLOPS_RETRAIN_ON_ALERT: 'true', MLOPS_RETRAIN_COOLDOWN_SEC: '3600' },
      { level: 'info', stream: logStream },
    );
  });
  after(() => server.close());

  test('a flapping alert starts one retraining, then none during the cool-down after it', async () => {
    const before = (await server.registry.runs.list(100)).length;
    for (let i = 0; i < 10; i++) server.retrainer.onAlert(alert('drift_psi'));
    const outcome = await waitFor('the retraining', () => server.retrainer.current()?.done);
    await outcome;
    for (let i = 0; i < 5; i++) server.retrainer.onAlert(alert('quality_accuracy'));
    await waitFor('the cool-down log line', () => lines.find((l) => /alert quality_accuracy: no retraining: .*try again in \d+ s/.test(l)));
    const runs = (await server.registry.runs.list(100)) as RunRecord[];
    assert.equal(runs.length - before, 1, 'one run');
    assert.equal(runs[0].trigger, 'alert:drift_psi');
    assert.equal(lines.filter((l) => /no retraining: a retraining is already (running|starting)/.test(l)).length, 9);
    assert.equal((await server.registry.models.resolve({ name: 'iris', selector: 'challenger' })).version, 2);
  });

  test('POST /api/retrain (no cool-down for a person): trigger manual; the new version is the challenger, production stays', async () => {
    const res = await post(`${server.url}/api/retrain`, {}, server.apiHeaders);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const started = res.body as RetrainResponse;
    assert.deepEqual({ ...started, runId: '' }, { runId: '', model: 'iris', fromVersion: 1, data: 'append', rows: 150, labelledRows: 0 });
    const again = await post(`${server.url}/api/retrain`, { data: 'append' }, server.apiHeaders);
    assert.equal(again.status, 409, 'one retraining at a time');
    assert.match((again.body as { error: string }).error, new RegExp(`a retraining is already running \\(run ${started.runId}\\)`));

    const outcome = await server.retrainer.current()!.done;
    assert.deepEqual(outcome, { runId: started.runId, status: 'succeeded', challenger: { model: 'iris', version: 3 } });
    const run = await server.registry.runs.get(started.runId);
    assert.equal(run.trigger, 'manual');
    assert.match(String(run.params.data), /retrain\/iris-1-\d+\.csv$/);
    const history = (await server.registry.models.history('iris')).map((m) => [m.alias, m.fromVersion, m.toVersion, m.by]);
    assert.deepEqual(history, [
      ['production', null, 1, 'retrain: keep the champion'],
      ['challenger', null, 2, 'retrain of version 1'],
      ['challenger', 2, 3, 'retrain of version 1'],
    ]);
    assert.ok(fs.existsSync(String(run.params.data)));
    await server.holder.refresh();
    assert.equal(server.holder.current()?.info.version, 1, 'the champion is still served');
  });

  test('bad requests: an unknown data mode is a 400, replace without labelled predictions a 409', async () => {
    const bad = await post(`${server.url}/api/retrain`, { data: 'merge' }, server.apiHeaders);
    assert.equal(bad.status, 400);
    const none = await post(`${server.url}/api/retrain`, { data: 'replace' }, server.apiHeaders);
    assert.equal(none.status, 409);
    assert.match((none.body as { error: string }).error, /cannot retrain with data=replace: there are no labelled predictions/);
    assert.equal((await post(`${server.url}/api/retrain`, {})).status, 401, '/api needs its credential');
  });

  test('mlops retrain --wait: the run, then the version that became the challenger; an unreachable server is exit 1', async () => {
    const r = await mlopsAsync(dir, ['retrain', '--url', server.url, '--wait']).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^retraining iris version 1: run \S+ on 150 rows \(0 labelled, append\)\niris version 4 registered as the challenger\n$/,
    );
    const down = await mlopsAsync(dir, ['retrain', '--url', 'http://127.0.0.1:9']).done;
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^mlops: cannot reach http:\/\/127\.0\.0\.1:9\/api\/retrain: /);
  });
});

describe('retraining on replicas that share a registry', () => {
  let dir = '';
  const replicas: TestServer[] = [];
  const { lines, stream: logStream } = logLines();

  before(async () => {
    dir = tempDataDir();
    trainIris(dir);
    for (let i = 0; i < 2; i++) {
      const env = { MLOPS_RETRAIN_ON_ALERT: 'true', MLOPS_RETRAIN_COOLDOWN_SEC: '3600' };
      replicas.push(await startTestServer(dir, env, { level: 'info', stream: logStream }));
    }
  });
  after(() => Promise.all(replicas.map((r) => r.close())));

  test('the same alert on both starts one retraining; the cool-down after it holds on the other replica too', async () => {
    const [a, b] = replicas;
    const before = (await a.registry.runs.list(100)).length;
    for (let i = 0; i < 3; i++) for (const r of replicas) r.retrainer.onAlert(alert('drift_psi'));
    const winner = await waitFor('a retraining on one replica', () => replicas.find((r) => r.retrainer.current()));
    const loser = winner === a ? b : a;
    // A person asking the other replica is told where the retraining runs.
    const busy = await post(`${loser.url}/api/retrain`, {}, loser.apiHeaders);
    assert.equal(busy.status, 409, JSON.stringify(busy.body));
    assert.match((busy.body as { error: string }).error, /a retraining of iris is already running on another server \(.+\)/);
    await winner.retrainer.current()!.done;
    assert.equal(loser.retrainer.current(), null, 'the other replica never started one');
    assert.equal((await a.registry.runs.list(100)).length - before, 1, 'one run');
    assert.ok(lines.some((l) => /alert drift_psi: no retraining: a retraining of iris is already running on another server/.test(l)));

    loser.retrainer.onAlert(alert('quality_accuracy'));
    await waitFor('the cool-down on the other replica', () =>
      lines.find((l) => /alert quality_accuracy: no retraining: .*try again in \d+ s/.test(l)),
    );
    assert.equal((await a.registry.runs.list(100)).length - before, 1, 'still one run');
  });
});
