import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { apiTokenPath, readApiToken } from '../../common/api-token';
import { tempDataDir } from '../helpers/cli';
import { SAMPLE, startTestServer, trainIris, type TestServer } from '../helpers/server';

/** A request with any Host and Origin (fetch sets Host itself): status, body and headers. */
function raw(url: string, o: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  const body = o.body === undefined ? undefined : JSON.stringify(o.body);
  const headers = { ...(body ? { 'content-type': 'application/json' } : {}), ...o.headers };
  return new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request(url, { method: o.method ?? 'GET', headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('DNS rebinding, cross-site requests and the data dir token', () => {
  let s: TestServer;
  let dir: string;
  let port: string;
  before(async () => {
    dir = tempDataDir();
    trainIris(dir);
    s = await startTestServer(dir, { MLOPS_ALLOWED_HOSTS: 'mlops.internal, devbox.example:8000' });
    port = new URL(s.url).port;
  });
  after(() => s?.close());

  test('a Host naming another site is refused with 403, even with the token; loopback names and configured ones pass', async () => {
    const promote = { method: 'PUT', body: { version: 1 } };
    for (const host of ['attacker.example', `attacker.example:${port}`, '127.0.0.1.attacker.example', 'localhost.attacker.example']) {
      const runs = await raw(`${s.url}/api/runs`, { headers: { host, ...s.apiHeaders } });
      assert.equal(runs.status, 403, `GET /api/runs with Host '${host}'`);
      assert.equal(JSON.parse(runs.body).code, 'FORBIDDEN_HOST');
      const alias = await raw(`${s.url}/api/models/iris/aliases/pwned`, { ...promote, headers: { host, ...s.apiHeaders } });
      assert.equal(alias.status, 403, `PUT alias with Host '${host}'`);
      assert.equal((await raw(`${s.url}/predict`, { method: 'POST', body: SAMPLE, headers: { host } })).status, 403);
    }
    const good = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'LOCALHOST', 'mlops.internal', `devbox.example:${port}`];
    for (const host of good) {
      assert.equal((await raw(`${s.url}/api/runs`, { headers: { host, ...s.apiHeaders } })).status, 200, `Host '${host}'`);
    }
    const history = (await raw(`${s.url}/api/models/iris`, { headers: s.apiHeaders })).body;
    assert.ok(!history.includes('pwned'), 'no alias was moved by a refused request');
  });

  test('a state-changing request from another origin is refused; its own origin and GETs pass', async () => {
    const put = (origin: string) =>
      raw(`${s.url}/api/models/iris/aliases/staging`, { method: 'PUT', body: { version: 1 }, headers: { origin, ...s.apiHeaders } });
    for (const origin of ['https://evil.example', 'null', `http://localhost:${Number(port) + 1}`]) {
      const res = await put(origin);
      assert.equal(res.status, 403, origin);
      assert.equal(JSON.parse(res.body).code, 'CROSS_ORIGIN');
      assert.equal((await raw(`${s.url}/predict`, { method: 'POST', body: SAMPLE, headers: { origin } })).status, 403);
    }
    assert.equal((await put(`http://127.0.0.1:${port}`)).status, 200);
    assert.equal((await raw(`${s.url}/api/status`, { headers: { origin: 'https://evil.example', ...s.apiHeaders } })).status, 200);
  });

  test('/api needs the data dir token (0600, kept across restarts); /predict, /v2, /metrics and /healthz stay open', async () => {
    assert.equal(fs.statSync(apiTokenPath(dir)).mode & 0o777, 0o600);
    const token = readApiToken(dir)!;
    assert.ok(token.length >= 40);
    const basic = `Basic ${Buffer.from(`x:${token}`).toString('base64')}`;
    const wrong: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: basic }];
    for (const headers of wrong) {
      const res = await raw(`${s.url}/api/runs`, { headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal(JSON.parse(res.body).code, 'UNAUTHORIZED');
      assert.equal((await raw(`${s.url}/api/events`, { headers })).status, 401);
    }
    assert.equal((await raw(`${s.url}/api/runs`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    assert.equal((await raw(`${s.url}/predict`, { method: 'POST', body: SAMPLE })).status, 200);
    for (const open of ['/metrics', '/healthz', '/readyz', '/v2', '/v2/models/iris']) {
      assert.equal((await raw(`${s.url}${open}`)).status, 200, open);
    }
    const again = await startTestServer(dir);
    try {
      assert.equal(readApiToken(dir), token);
      assert.equal((await raw(`${again.url}/api/status`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    } finally {
      await again.close();
    }
  });

  test('configured API credentials keep working beside the data dir token', async () => {
    const other = await startTestServer(tempDataDir(), { MLOPS_API_USERNAME: 'ops', MLOPS_API_PASSWORD: 'pw' });
    try {
      const basic = { authorization: `Basic ${Buffer.from('ops:pw').toString('base64')}` };
      assert.equal((await raw(`${other.url}/api/status`, { headers: basic })).status, 200);
      assert.equal((await raw(`${other.url}/api/status`, { headers: other.apiHeaders })).status, 200);
      assert.equal((await raw(`${other.url}/api/status`)).status, 401);
    } finally {
      await other.close();
    }
  });

  test('request ids: a well-formed one is kept, anything else is replaced before it reaches a header or a log', async () => {
    const kept = await raw(`${s.url}/healthz`, { headers: { 'x-request-id': 'trace-42.a:b_c' } });
    assert.equal(kept.headers['x-request-id'], 'trace-42.a:b_c');
    for (const bad of ['=HYPERLINK("http://x")', '+1', '-2', '@SUM(A1)', 'a'.repeat(129), 'a b', 'é']) {
      const id = (await raw(`${s.url}/healthz`, { headers: { 'x-request-id': bad } })).headers['x-request-id'];
      assert.match(String(id), /^[0-9a-f-]{36}$/, bad);
    }
  });
});
