import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, needs, tempDataDir } from '../helpers/cli';
import { SAMPLE, trainIris, waitFor } from '../helpers/server';
import { freePort } from '../helpers/net';

// The container's entry point run outside a container, as users also run it, with Debian's
// Prometheus scraping the server.
const ENTRYPOINT = path.join(ROOT, '.devcontainer', 'entrypoint.sh');
const prometheus = spawnSync('prometheus', ['--version']).status === 0;

async function promQuery(port: number, query: string): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(query)}`).catch(() => null);
  if (!res?.ok) return undefined;
  const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
  const v = body.data.result[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}

describe('.devcontainer/entrypoint.sh outside a container', () => {
  test('MODE=train runs the pipeline once and exits with its code; an unknown MODE exits 2', () => {
    const dir = tempDataDir();
    const ok = spawnSync('bash', [ENTRYPOINT], { env: { ...process.env, MODE: 'train', MLOPS_DATA_DIR: dir }, encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /registered iris version 1/);
    const rejected = spawnSync('bash', [ENTRYPOINT, '--param', 'minAccuracy=1'], { env: { ...process.env, MODE: 'train', MLOPS_DATA_DIR: dir }, encoding: 'utf8' });
    assert.equal(rejected.status, 3, 'rejected by the gate (EXIT.rejected)');
    const bad = spawnSync('bash', [ENTRYPOINT], { env: { ...process.env, MODE: 'jupyter', MLOPS_DATA_DIR: dir }, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown MODE 'jupyter'/);
  });

  test('MODE=api: the server serves, Prometheus scrapes it (with its auth), SIGTERM stops both', { skip: needs(prometheus, "Debian's prometheus (apt-get install prometheus)"), timeout: 90_000 }, async () => {
    const dir = tempDataDir();
    trainIris(dir);
    const [port, promPort] = [await freePort(), await freePort()];
    const child = spawn('bash', [ENTRYPOINT], {
      env: { ...process.env, MODE: 'api', MLOPS_DATA_DIR: dir, MLOPS_PORT: String(port), PROMETHEUS_PORT: String(promPort), PROMETHEUS_SCRAPE_INTERVAL: '1s', METRICS_USERNAME: 'prom', METRICS_PASSWORD: 'scrape-secret', MLOPS_REQUEST_LOG: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor('the server', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok ? true : undefined), 20_000);
      const predict = () => fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(SAMPLE) });
      assert.deepEqual(await (await predict()).json(), [{ variety: 'Virginica' }, { variety: 'Versicolor' }]);
      assert.equal(await waitFor('up == 1', async () => ((await promQuery(promPort, 'up{job="mlops"}')) === 1 ? 1 : undefined), 30_000), 1);
      const before = await waitFor('a prediction counter', () => promQuery(promPort, 'sum(mlops_predictions_total)'), 30_000);
      for (let i = 0; i < 5; i++) await predict();
      const after = await waitFor('the counter to rise', async () => {
        const v = await promQuery(promPort, 'sum(mlops_predictions_total)');
        return v !== undefined && v >= before + 10 ? v : undefined;
      }, 30_000);
      assert.ok(after >= before + 10);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, out);
    await new Promise((r) => setTimeout(r, 300));
    for (const p of [port, promPort]) assert.equal(await fetch(`http://127.0.0.1:${p}/`).then(() => 'open', () => 'closed'), 'closed', `port ${p} closed`);
  });
});
