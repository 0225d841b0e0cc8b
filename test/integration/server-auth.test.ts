import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkExposure, loadConfig } from '../../server/config';
import { tempDataDir } from '../helpers/cli';
import { SAMPLE, post, startTestServer, trainIris, type TestServer } from '../helpers/server';

const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });

describe('auth', () => {
  let s: TestServer;
  before(async () => {
    const dir = tempDataDir();
    trainIris(dir);
    const tokenFile = path.join(dir, 'api-token');
    fs.writeFileSync(tokenFile, 's3cret-api-token\n');
    s = await startTestServer(dir, {
      PREDICT_USERNAME: 'alice',
      PREDICT_PASSWORD: 'predict-pass',
      METRICS_USERNAME: 'prom',
      METRICS_PASSWORD: 'metrics-pass',
      MLOPS_API_TOKEN_FILE: tokenFile,
    });
  });
  after(() => s.close());

  test('protected routes answer 401 without credentials and with wrong ones', async () => {
    const cases: [string, RequestInit][] = [
      ['/predict', { method: 'POST', body: JSON.stringify(SAMPLE), headers: { 'content-type': 'application/json' } }],
      ['/v2/models/iris/infer', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }],
      ['/v2/models/iris', {}],
      ['/metrics', {}],
      ['/api/status', {}],
      ['/api/models', {}],
    ];
    for (const [route, init] of cases) {
      for (const headers of [
        {},
        basic('alice', 'wrong'),
        basic('prom', 'predict-pass'),
        { authorization: 'Bearer nope' },
        { authorization: 'Basic !!!' },
      ]) {
        const res = await fetch(`${s.url}${route}`, { ...init, headers: { ...(init.headers as Record<string, string>), ...headers } });
        assert.equal(res.status, 401, `${route} with ${JSON.stringify(headers)}`);
        assert.match(res.headers.get('www-authenticate') ?? '', /^(Basic|Bearer) realm="mlops/);
        assert.deepEqual(await res.json(), {
          error: route.startsWith('/api')
            ? "authentication required for api (send the data directory's api-token as a Bearer token, or the MLOPS_API_* credentials)"
            : `authentication required for ${route === '/metrics' ? 'metrics' : 'predict'}`,
          code: 'UNAUTHORIZED',
        });
      }
    }
  });

  test('each scope takes its own credentials; health stays open for probes', async () => {
    assert.equal((await post(`${s.url}/predict`, SAMPLE, basic('alice', 'predict-pass'))).status, 200);
    assert.equal((await fetch(`${s.url}/metrics`, { headers: basic('prom', 'metrics-pass') })).status, 200);
    assert.equal((await fetch(`${s.url}/metrics`, { headers: basic('alice', 'predict-pass') })).status, 401);
    assert.equal((await fetch(`${s.url}/api/status`, { headers: { authorization: 'Bearer s3cret-api-token' } })).status, 200);
    assert.equal((await fetch(`${s.url}/api/status`, { headers: { authorization: 'Bearer s3cret-api-token-and-more' } })).status, 401);
    for (const open of ['/healthz', '/readyz', '/v2/health/live', '/v2/health/ready'])
      assert.equal((await fetch(`${s.url}${open}`)).status, 200, open);
  });

  test('no credential appears in /metrics or in the status (the server log is checked in server-lifecycle)', async () => {
    const metrics = await (await fetch(`${s.url}/metrics`, { headers: basic('prom', 'metrics-pass') })).text();
    const status = await (await fetch(`${s.url}/api/status`, { headers: { authorization: 'Bearer s3cret-api-token' } })).text();
    for (const secret of ['predict-pass', 'metrics-pass', 's3cret-api-token']) {
      assert.ok(!metrics.includes(secret), `metrics leak ${secret}`);
      assert.ok(!status.includes(secret), `status leaks ${secret}`);
    }
  });

  test('CORS is same-origin by default', async () => {
    const res = await fetch(`${s.url}/healthz`, { headers: { origin: 'https://evil.example' } });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    const preflight = await fetch(`${s.url}/predict`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
  });
});

describe('exposure', () => {
  const env = (extra: NodeJS.ProcessEnv) => loadConfig({}, { MLOPS_DATA_DIR: tempDataDir(), ...extra });
  test('binding a non-loopback address without auth is refused', () => {
    assert.throws(
      () => checkExposure(env({ MLOPS_HOST: '0.0.0.0' })),
      /refusing to listen on 0\.0\.0\.0 with no auth for predict, metrics, api/,
    );
    assert.throws(() => checkExposure(env({ MLOPS_HOST: '0.0.0.0', PREDICT_TOKEN: 't', METRICS_TOKEN: 't' })), /with no auth for api/);
    assert.doesNotThrow(() => checkExposure(env({ MLOPS_HOST: '0.0.0.0', PREDICT_TOKEN: 't', METRICS_TOKEN: 't', MLOPS_API_TOKEN: 't' })));
    assert.doesNotThrow(() => checkExposure(env({ MLOPS_HOST: '0.0.0.0', MLOPS_ALLOW_INSECURE_BIND: 'true' })));
    assert.doesNotThrow(() => checkExposure(env({})));
    assert.equal(env({}).host, '127.0.0.1');
  });
  test('half-set credentials and unreadable secret files are errors, not silently open', () => {
    assert.throws(() => env({ PREDICT_USERNAME: 'a' }), /PREDICT_USERNAME and PREDICT_PASSWORD must be set together/);
    assert.throws(
      () => env({ METRICS_PASSWORD_FILE: '/nonexistent/secret' }),
      /METRICS_PASSWORD_FILE: cannot read \/nonexistent\/secret \(ENOENT\)/,
    );
  });
  test('a configured CORS origin is allowed, others are not', async () => {
    const dir = tempDataDir();
    const s = await startTestServer(dir, { MLOPS_CORS_ORIGINS: 'http://localhost:3000' });
    try {
      const ok = await fetch(`${s.url}/healthz`, { headers: { origin: 'http://localhost:3000' } });
      assert.equal(ok.headers.get('access-control-allow-origin'), 'http://localhost:3000');
      const other = await fetch(`${s.url}/healthz`, { headers: { origin: 'https://evil.example' } });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    } finally {
      await s.close();
    }
  });
});
