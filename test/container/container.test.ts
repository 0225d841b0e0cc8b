import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { ModelSummary } from '../../common/contract';
import { ROOT, json, mlops, needs, tempDataDir } from '../helpers/cli';
import { freePort } from '../helpers/net';
import { SAMPLE, waitFor } from '../helpers/server';
import { check, ensureBaseImage, podman, podmanAvailable } from './podman';

// Builds the real .devcontainer/Dockerfile with podman from a locally made Debian base and runs it
// in each mode. Slow (minutes, the first time): `node test/run.mjs container`, which .ci/run calls.
const BASE = 'localhost/mlops-base:bookworm-node24';
const IMAGE = 'localhost/mlops-template:test';
const ready = podmanAvailable() && spawnSync('debootstrap', ['--version']).status === 0;

async function promQuery(port: number, query: string): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(query)}`).catch(() => null);
  if (!res?.ok) return undefined;
  const v = ((await res.json()) as { data: { result: { value: [number, string] }[] } }).data.result[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}

describe('the container image (podman, no Docker engine)', { skip: needs(ready, 'podman, runc and debootstrap (apt-get install podman runc debootstrap)'), timeout: 45 * 60_000 }, () => {
  const data = tempDataDir('mlops-container-');
  // tini, the image's entry point, is PID 1: podman stop's SIGTERM reaches the entrypoint script.
  const run = (network: 'host' | 'none', extra: string[], args: string[] = []) =>
    podman(['run', '--rm', '--network', network, '-v', `${data}:/opt/mlops/local_data`, ...extra, IMAGE, ...args], { timeoutMs: 300_000 });

  before(() => {
    ensureBaseImage(BASE);
    // The host's CA bundle goes in too: this machine reaches the npm registry through a proxy
    // whose certificate only the host trusts (Node's own CA list does not have it).
    const ca = ['-v', '/etc/ssl/certs/ca-certificates.crt:/tmp/host-ca.crt:ro', '--build-arg', 'npm_config_cafile=/tmp/host-ca.crt'];
    check(podman(['build', '--network', 'host', ...ca, '--build-arg', `BASE=${BASE}`, '-f', '.devcontainer/Dockerfile', '-t', IMAGE, ROOT], { timeoutMs: 40 * 60_000 }), 'podman build');
  });
  after(() => podman(['rm', '-f', 'mlops-api-test']));

  test('MODE=train runs the pipeline once, offline, and exits with its code', () => {
    const r = run('none', ['-e', 'MODE=train']);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /registered iris version 1/);
    const models = json<ModelSummary[]>(mlops(data, ['models', 'list', '--json']));
    assert.deepEqual(models.map((m) => [m.name, m.latest]), [['iris', 1]]);
    const rejected = run('none', ['-e', 'MODE=train'], ['--param', 'minAccuracy=1']);
    assert.equal(rejected.status, 2);
  });

  test('MODE=api: the server answers from the host, Prometheus inside scrapes it, podman stop ends both cleanly', async () => {
    const [port, promPort] = [await freePort(), await freePort()];
    check(
      podman(['run', '-d', '--name', 'mlops-api-test', '--network', 'host', '-v', `${data}:/opt/mlops/local_data`, '-e', 'MODE=api', '-e', `MLOPS_PORT=${port}`, '-e', `PROMETHEUS_PORT=${promPort}`, '-e', 'PROMETHEUS_SCRAPE_INTERVAL=1s', '-e', 'MLOPS_REQUEST_LOG=false', IMAGE]),
      'podman run api',
    );
    const url = `http://127.0.0.1:${port}`;
    await waitFor('/readyz', async () => ((await fetch(`${url}/readyz`).catch(() => null))?.ok ? true : undefined), 60_000);
    const predict = () => fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(SAMPLE) });
    assert.deepEqual(await (await predict()).json(), [{ variety: 'Virginica' }, { variety: 'Versicolor' }]);
    await waitFor('up == 1', async () => ((await promQuery(promPort, 'up{job="mlops"}')) === 1 ? true : undefined), 60_000);
    const before = await waitFor('a prediction counter', () => promQuery(promPort, 'sum(mlops_predictions_total)'), 60_000);
    for (let i = 0; i < 5; i++) await predict();
    await waitFor('the counter to rise', async () => (((await promQuery(promPort, 'sum(mlops_predictions_total)')) ?? 0) >= before + 10 ? true : undefined), 60_000);

    check(podman(['stop', '-t', '20', 'mlops-api-test'], { timeoutMs: 60_000 }), 'podman stop');
    const state = check(podman(['inspect', 'mlops-api-test', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}']), 'podman inspect').trim();
    assert.equal(state, '0 false', 'SIGTERM ends the server and Prometheus with exit code 0');
    for (const p of [port, promPort]) assert.equal(await fetch(`http://127.0.0.1:${p}/`).then(() => 'open', () => 'closed'), 'closed');
  });
});
