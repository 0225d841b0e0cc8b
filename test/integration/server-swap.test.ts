import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import autocannon from 'autocannon';
import type { ServerStatus } from '../../common/contract';
import { mlops, tempDataDir } from '../helpers/cli';
import { SAMPLE, post, startTestServer, trainIris, waitFor, type TestServer } from '../helpers/server';

const served = async (s: TestServer) => (await (await fetch(`${s.url}/api/status`, { headers: s.apiHeaders })).json()) as ServerStatus;

describe('hot swap', () => {
  let s: TestServer;
  let dir: string;
  before(async () => {
    dir = tempDataDir();
    trainIris(dir, ['trainer=random_forest'], ['trainer=logistic_regression']);
    assert.equal(mlops(dir, ['models', 'promote', 'iris', '1']).code, 0);
    s = await startTestServer(dir);
  });
  after(() => s.close());

  test('serves production, and follows a promote from the CLI within 2 s', async () => {
    assert.equal((await served(s)).serving?.version, 1);
    const started = Date.now();
    assert.equal(mlops(dir, ['models', 'promote', 'iris', '2']).code, 0);
    await waitFor('version 2 served', async () => ((await served(s)).serving?.version === 2 ? true : undefined), 2000);
    assert.ok(Date.now() - started < 2000 + 1000); // the CLI process start counts too
    const r = await post(`${s.url}/predict`, SAMPLE);
    assert.equal(r.headers.get('x-model-version'), 'iris/2');
  });

  test('promote and roll back under 32 connections of load: zero failed requests, both versions answer', async () => {
    const versions = new Set<string>();
    const load = autocannon({
      url: `${s.url}/predict`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(SAMPLE),
      connections: 32,
      duration: 4,
      // autocannon hands over the parser's raw header list, [name, value, …] (its typings say otherwise)
      setupClient: (client) =>
        client.on('headers', (h) => {
          const headers = (h as unknown as { headers: string[] }).headers;
          const i = headers.findIndex((x, k) => k % 2 === 0 && x.toLowerCase() === 'x-model-version');
          if (i >= 0) versions.add(headers[i + 1]);
        }),
    });
    let swaps = 0;
    const promoter = (async () => {
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 400));
        const headers = { 'content-type': 'application/json', ...s.apiHeaders };
        const body = JSON.stringify({ version: i % 2 === 0 ? 1 : 2 });
        const res = await fetch(`${s.url}/api/models/iris/aliases/production`, { method: 'PUT', headers, body });
        assert.equal(res.status, 200);
        swaps++;
      }
    })();
    const [result] = await Promise.all([load, promoter]);
    assert.equal(swaps, 6);
    assert.ok(result.requests.total > 1000, `requests: ${result.requests.total}`);
    assert.equal(result.errors, 0, 'connection errors');
    assert.equal(result.non2xx, 0, 'non-2xx responses');
    assert.equal(result.timeouts, 0);
    assert.deepEqual([...versions].sort(), ['iris/1', 'iris/2']);
  });

  test('a corrupt model file is refused and the previous version keeps serving', async () => {
    const before = (await served(s)).serving!.version;
    trainIris(dir); // version 3
    const v3 = JSON.parse(mlops(dir, ['models', 'show', 'iris/3', '--json']).stdout) as { path: string };
    fs.truncateSync(v3.path, 100);
    const headers = { 'content-type': 'application/json', ...s.apiHeaders };
    const body = JSON.stringify({ version: 3 });
    const res = await fetch(`${s.url}/api/models/iris/aliases/production`, { method: 'PUT', headers, body });
    assert.equal(res.status, 200, 'the alias moves: the registry is not the server');
    const status = await served(s);
    assert.equal(status.serving?.version, before);
    assert.match(status.lastError ?? '', /iris version 3: .* is corrupt: .* has sha256 .* the registry recorded/);
    const r = await post(`${s.url}/predict`, SAMPLE);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-model-version'), `iris/${before}`);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /mlops_model_swaps_total\{outcome="refused"\} [1-9]/);
  });
});
