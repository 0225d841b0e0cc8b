import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { readLog } from '../helpers/prediction-log';
import { ROOT, tempDataDir } from '../helpers/cli';
import { freePort } from '../helpers/net';
import { SAMPLE, trainIris, waitFor } from '../helpers/server';

/** The server as its own process (dist/server.js), as the extension and the container start it. */
async function serverProcess(
  dataDir: string,
  env: NodeJS.ProcessEnv = {},
  until: '/healthz' | '/readyz' = '/readyz',
  command = [path.join(ROOT, 'dist', 'server.js')],
) {
  const port = await freePort();
  const child = spawn(process.execPath, command, {
    cwd: ROOT,
    env: { ...process.env, MLOPS_DATA_DIR: dataDir, MLOPS_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`server ${until}`, async () => ((await fetch(`${url}${until}`).catch(() => null))?.status === 200 ? true : undefined));
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}: ${out}`);
  }
  return { child, url, exited, output: () => out };
}

describe('server process lifecycle', () => {
  test('npm start on an empty registry: trains the example, registers it, serves it', async () => {
    const dir = tempDataDir();
    const s = await serverProcess(dir, {}, '/readyz', [path.join(ROOT, 'bin', 'mlops.js'), 'start']);
    try {
      assert.match(s.output(), /the registry is empty: training the example pipeline first/);
      assert.match(s.output(), /registered iris version 1/);
      assert.match(s.output(), /serving iris version 1 on http:\/\/127\.0\.0\.1:\d+/);
      const res = await fetch(`${s.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(SAMPLE),
      });
      assert.deepEqual(await res.json(), [{ variety: 'Virginica' }, { variety: 'Versicolor' }]);
    } finally {
      s.child.kill('SIGTERM');
      assert.equal((await s.exited).code, 0);
    }
  });

  test('SIGTERM under load: exit 0, and every acknowledged prediction is in the log', async () => {
    const dir = tempDataDir();
    trainIris(dir);
    const secrets = { PREDICT_USERNAME: 'alice', PREDICT_PASSWORD: 'predict-pass-123', MLOPS_LOG_FLUSH_MS: '1000' };
    const s = await serverProcess(dir, secrets);
    const auth = `Basic ${Buffer.from('alice:predict-pass-123').toString('base64')}`;
    const acknowledged: string[] = [];
    let stop = false;
    let sent = 0;
    const client = async (worker: number) => {
      for (let i = 0; !stop; i++) {
        const id = `w${worker}-${i}`;
        sent++;
        try {
          const res = await fetch(`${s.url}/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: auth, 'x-request-id': id },
            body: JSON.stringify(SAMPLE),
          });
          if (res.status === 200 && (await res.json()) !== null) acknowledged.push(id);
          else if (res.status !== 503) throw new Error(`unexpected ${res.status}`);
        } catch (err) {
          if (!stop) stop = true; // the server stopped accepting: that is the point
          void err;
        }
      }
    };
    const clients = Array.from({ length: 16 }, (_, w) => client(w));
    await waitFor('some load', () => (acknowledged.length > 300 ? true : undefined));
    s.child.kill('SIGTERM');
    const { code, signal } = await s.exited;
    stop = true;
    await Promise.all(clients);
    assert.equal(signal, null);
    assert.equal(code, 0, s.output());

    const logged = new Set(readLog(dir).map((e) => e.requestId));
    const lost = acknowledged.filter((id) => !logged.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged predictions missing`);
    assert.ok(acknowledged.length > 300, `acknowledged ${acknowledged.length} of ${sent}`);
    // Request logs are pino JSON lines carrying the request id, and carry no credential.
    const lines = s
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    assert.ok(lines.some((l) => JSON.parse(l).reqId === acknowledged[0]));
    assert.ok(!s.output().includes('predict-pass-123'));
    assert.ok(!s.output().includes(Buffer.from('alice:predict-pass-123').toString('base64')));
  });

  test('a server started before any model is live but not ready, then serves the first one trained', async () => {
    const dir = tempDataDir();
    const s = await serverProcess(dir, { MLOPS_POLL_MS: '200' }, '/healthz');
    try {
      const notReady = await fetch(`${s.url}/readyz`);
      assert.equal(notReady.status, 503);
      assert.match(((await notReady.json()) as { error: string }).error, /no model registered yet/);
      const early = await fetch(`${s.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(SAMPLE),
      });
      assert.equal(early.status, 503);
      trainIris(dir);
      await waitFor('ready after training', async () => ((await fetch(`${s.url}/readyz`)).status === 200 ? true : undefined), 3000);
      const res = await fetch(`${s.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(SAMPLE),
      });
      assert.deepEqual(await res.json(), [{ variety: 'Virginica' }, { variety: 'Versicolor' }]);
    } finally {
      s.child.kill('SIGTERM');
      assert.equal((await s.exited).code, 0);
    }
  });
});
