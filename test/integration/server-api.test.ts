import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AliasMove, ModelSummary, ModelVersion, RunRecord, ServerEvent, ServerStatus, StartRunResponse } from '../../common/contract';
import { targetNames } from '../../common/signature';
import { post, trainedServer, waitFor } from '../helpers/server';
import { subscribe } from '../helpers/sse';

describe('management API and event stream', () => {
  const ctx = trainedServer();
  const get = async <T>(url: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(url, { headers: ctx.server.apiHeaders });
    return { status: res.status, body: (await res.json()) as T };
  };

  test('models, versions and runs read as the CLI shows them', async () => {
    const models = await get<ModelSummary[]>(`${ctx.server.url}/api/models`);
    assert.deepEqual(
      models.body.map((m) => [m.name, m.versions, m.latest]),
      [['iris', 1, 1]],
    );
    const model = await get<{ versions: ModelVersion[]; history: AliasMove[] }>(`${ctx.server.url}/api/models/iris`);
    assert.deepEqual(targetNames(model.body.versions[0].signature), ['variety']);
    assert.equal((await get<ModelVersion>(`${ctx.server.url}/api/models/iris/versions/1`)).body.version, 1);
    assert.equal((await get(`${ctx.server.url}/api/models/iris/versions/7`)).status, 404);
    assert.equal((await get(`${ctx.server.url}/api/models/iris/versions/x`)).status, 400);
    assert.equal((await get(`${ctx.server.url}/api/models/nope`)).status, 404);
    const runs = await get<RunRecord[]>(`${ctx.server.url}/api/runs?limit=5`);
    assert.equal(runs.body.length, 1);
    assert.equal((await get<RunRecord>(`${ctx.server.url}/api/runs/${runs.body[0].id}`)).body.status, 'succeeded');
    assert.equal((await get(`${ctx.server.url}/api/runs?limit=0`)).status, 400);
    const status = await get<ServerStatus>(`${ctx.server.url}/api/status`);
    assert.equal(status.body.ready, true);
    assert.equal(status.body.serving?.selector, 'latest');
    assert.equal(status.body.predictionLog.enabled, true);
  });

  test('a run started through the server streams its progress, registers, and the server follows', async () => {
    const stream = await subscribe(ctx.server.url, ctx.server.apiHeaders);
    try {
      assert.match(stream.contentType ?? '', /^text\/event-stream/);
      const started = await post(`${ctx.server.url}/api/runs`, { params: { trainer: 'logistic_regression' } }, ctx.server.apiHeaders);
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const { runId } = started.body as StartRunResponse;
      const finished = await waitFor('run.finished', () =>
        stream.events.find(
          (e): e is Extract<ServerEvent, { type: 'run' }> => e.type === 'run' && e.event.type === 'run.finished' && e.event.runId === runId,
        ),
      );
      assert.equal(finished.event.type === 'run.finished' && finished.event.status, 'succeeded');
      const steps = stream.events.filter((e) => e.type === 'run' && e.event.type === 'step.finished').length;
      assert.equal(steps, 6);
      // The server serves latest (no production alias): it moves to version 2 by itself.
      await waitFor('serving v2', () => stream.events.find((e) => e.type === 'serving' && e.serving?.version === 2));
      const stats = await waitFor('a stats event', () => stream.events.find((e) => e.type === 'stats'), 3000);
      assert.equal(typeof (stats.type === 'stats' && stats.stats.requestsPerSecond), 'number');
      assert.equal((await get<RunRecord>(`${ctx.server.url}/api/runs/${runId}`)).body.registered?.version, 2);

      const promote = await fetch(`${ctx.server.url}/api/models/iris/aliases/production`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...ctx.server.apiHeaders },
        body: JSON.stringify({ version: 1, by: 'test' }),
      });
      assert.equal(promote.status, 200);
      const move = (await promote.json()) as AliasMove;
      assert.deepEqual([move.alias, move.fromVersion, move.toVersion, move.by], ['production', null, 1, 'test']);
    } finally {
      await stream.close();
    }
  });

  test("a model's sample records come from its signature and predict", async () => {
    const sample = await get<Record<string, number>[]>(`${ctx.server.url}/api/models/iris/sample`);
    assert.equal(sample.status, 200);
    assert.equal(sample.body.length, 2);
    const features = ctx.server.holder.current()!.version.signature.features;
    for (const record of sample.body) {
      assert.deepEqual(
        Object.keys(record),
        features.map((f) => f.name),
      );
      for (const f of features) assert.ok(record[f.name] >= f.min! && record[f.name] <= f.max!, `${f.name} within the training range`);
    }
    assert.notDeepEqual(sample.body[0], sample.body[1]);
    assert.equal((await post(`${ctx.server.url}/predict`, sample.body)).status, 200);
    assert.equal((await get<unknown[]>(`${ctx.server.url}/api/models/iris/sample?rows=5`)).body.length, 5);
    assert.equal((await get(`${ctx.server.url}/api/models/nope/sample`)).status, 404);
    assert.equal((await get(`${ctx.server.url}/api/models/iris/sample?rows=0`)).status, 400);
  });

  test('bad requests to the API are 4xx with a message', async () => {
    const cases: [string, string, unknown, number, RegExp][] = [
      ['POST', '/api/runs', { pipeline: '/etc/passwd' }, 400, /pipeline must be a \.ts or \.js module inside the project/],
      ['POST', '/api/runs', { params: { x: { nested: true } } }, 400, /body\/params\/x must be string,number,boolean/],
      ['POST', '/api/runs', { colour: 'blue' }, 400, /must NOT have additional properties/],
      ['PUT', '/api/models/iris/aliases/production', { version: '2' }, 400, /body\/version must be integer/],
      ['PUT', '/api/models/iris/aliases/latest', { version: 1 }, 400, /"latest" always means the newest version/],
      ['PUT', '/api/models/iris/aliases/production', { version: 99 }, 404, /model 'iris' version 99 not found/],
      ['POST', '/api/runs/nope/cancel', {}, 404, /run 'nope' is not running here/],
    ];
    for (const [method, path, body, status, error] of cases) {
      const headers = { 'content-type': 'application/json', ...ctx.server.apiHeaders };
      const res = await fetch(`${ctx.server.url}${path}`, { method, headers, body: JSON.stringify(body) });
      assert.equal(res.status, status, `${method} ${path}`);
      assert.match(((await res.json()) as { error: string }).error, error);
    }
  });
});
