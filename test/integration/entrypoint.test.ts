import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ENTRY, NODE24, CACHE as CODE_SERVER_CACHE, installed as codeServerInstalled } from '../e2e/code-server';
import { ROOT, needs, tempDataDir } from '../helpers/cli';
import { checkPasswordLogin } from '../helpers/devcontainer';
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

/** Nothing listens on the ports any more, shortly after the entry point exited. */
async function assertClosed(...ports: number[]): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  for (const p of ports) {
    assert.equal(
      await fetch(`http://127.0.0.1:${p}/`).then(
        () => 'open',
        () => 'closed',
      ),
      'closed',
      `port ${p} closed`,
    );
  }
}

describe('.devcontainer/entrypoint.sh outside a container', () => {
  test('MODE=train runs the pipeline once and exits with its code; an unknown MODE exits 2', () => {
    const dir = tempDataDir();
    const ok = spawnSync('bash', [ENTRYPOINT], { env: { ...process.env, MODE: 'train', MLOPS_DATA_DIR: dir }, encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /registered iris version 1/);
    const rejected = spawnSync('bash', [ENTRYPOINT, '--param', 'minAccuracy=1'], {
      env: { ...process.env, MODE: 'train', MLOPS_DATA_DIR: dir },
      encoding: 'utf8',
    });
    assert.equal(rejected.status, 3, 'rejected by the gate (EXIT.rejected)');
    const bad = spawnSync('bash', [ENTRYPOINT], { env: { ...process.env, MODE: 'jupyter', MLOPS_DATA_DIR: dir }, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown MODE 'jupyter'/);
  });

  test('MODE=web: no default credentials beyond loopback; a password (or its file) is accepted', () => {
    const NO_VSIX = '/nonexistent/mlops.vsix';
    const web = (env: NodeJS.ProcessEnv) =>
      spawnSync('bash', [ENTRYPOINT], { env: { ...process.env, MODE: 'web', MLOPS_VSIX: NO_VSIX, ...env }, encoding: 'utf8' });
    const open = web({ CODE_SERVER_HOST: '0.0.0.0' });
    assert.equal(open.status, 2);
    assert.match(open.stderr, /MODE=web on 0\.0\.0\.0 needs PASSWORD, PASSWORD_FILE or HASHED_PASSWORD/);
    const missingFile = web({ CODE_SERVER_HOST: '0.0.0.0', PASSWORD_FILE: '/nonexistent/password' });
    assert.equal(missingFile.status, 2);
    assert.match(missingFile.stderr, /PASSWORD_FILE \/nonexistent\/password is not readable/);
    // Past the auth check, each run stops at the missing package (before code-server starts).
    const passwordFile = path.join(tempDataDir(), 'password');
    fs.writeFileSync(passwordFile, 'web-secret', { mode: 0o600 });
    const hashed = '$argon2i$v=19$m=4096,t=3,p=1$x$y';
    const anyAddress = { CODE_SERVER_HOST: '0.0.0.0' };
    for (const env of [{ ...anyAddress, PASSWORD_FILE: passwordFile }, { ...anyAddress, HASHED_PASSWORD: hashed }, {}]) {
      const r = web(env);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /no extension package at \/nonexistent\/mlops\.vsix/);
    }
  });

  test(
    'MODE=api: the server serves, Prometheus scrapes it (with its auth), SIGTERM stops both',
    { skip: needs(prometheus, "Debian's prometheus (apt-get install prometheus)"), timeout: 90_000 },
    async () => {
      const dir = tempDataDir();
      trainIris(dir);
      const [port, promPort] = [await freePort(), await freePort()];
      const child = spawn('bash', [ENTRYPOINT], {
        env: {
          ...process.env,
          MODE: 'api',
          MLOPS_DATA_DIR: dir,
          MLOPS_PORT: String(port),
          PROMETHEUS_PORT: String(promPort),
          PROMETHEUS_SCRAPE_INTERVAL: '1s',
          METRICS_USERNAME: 'prom',
          METRICS_PASSWORD: 'scrape-secret',
          MLOPS_REQUEST_LOG: 'false',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        await waitFor(
          'the server',
          async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok ? true : undefined),
          20_000,
        );
        const predict = () =>
          fetch(`http://127.0.0.1:${port}/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(SAMPLE),
          });
        assert.deepEqual(await (await predict()).json(), [{ variety: 'Virginica' }, { variety: 'Versicolor' }]);
        assert.equal(
          await waitFor('up == 1', async () => ((await promQuery(promPort, 'up{job="mlops"}')) === 1 ? 1 : undefined), 30_000),
          1,
        );
        const before = await waitFor('a prediction counter', () => promQuery(promPort, 'sum(mlops_predictions_total)'), 30_000);
        for (let i = 0; i < 5; i++) await predict();
        const after = await waitFor(
          'the counter to rise',
          async () => {
            const v = await promQuery(promPort, 'sum(mlops_predictions_total)');
            return v !== undefined && v >= before + 10 ? v : undefined;
          },
          30_000,
        );
        assert.ok(after >= before + 10);
        // The alert rules (.devcontainer/mlops-alerts.rules.yml) are loaded beside the scrape config.
        const rules = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/rules`)).json()) as {
          data: { groups: { rules: { name: string; health: string }[] }[] };
        };
        const loaded = rules.data.groups.flatMap((g) => g.rules.map((r) => r.name));
        assert.deepEqual(loaded, ['drift_psi', 'drift_ks', 'quality_accuracy', 'error_rate', 'latency_p95']);
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exited, 0, out);
      await assertClosed(port, promPort);
    },
  );

  test(
    'MODE=web: code-server installs the package and serves the project behind the password; SIGTERM stops it',
    {
      skip: needs(codeServerInstalled(), `code-server in ${CODE_SERVER_CACHE} (node --import tsx test/e2e/install-code-server.ts)`),
      timeout: 120_000,
    },
    async () => {
      const home = tempDataDir('mlops-web-');
      const vsix = path.join(home, 'mlops.vsix');
      const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
      const pack = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--out', vsix], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(pack.status, 0, pack.stdout + pack.stderr);
      // A `code-server` command on the PATH, as in the image: the cached install run with its Node 24.
      const bin = path.join(home, 'bin');
      fs.mkdirSync(bin);
      fs.writeFileSync(path.join(bin, 'code-server'), `#!/bin/sh\nexec '${NODE24}' '${ENTRY}' "$@"\n`, { mode: 0o755 });
      const [port, promPort] = [await freePort(), await freePort()];
      const env = {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        XDG_DATA_HOME: path.join(home, 'data'),
        XDG_CONFIG_HOME: path.join(home, 'config'),
        MODE: 'web',
        MLOPS_VSIX: vsix,
        MLOPS_DATA_DIR: tempDataDir(),
        CODE_SERVER_PORT: String(port),
        PROMETHEUS_PORT: String(promPort),
        PASSWORD: 'web-secret',
      };
      const child = spawn('bash', [ENTRYPOINT], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        const url = `http://127.0.0.1:${port}`;
        await waitFor('code-server', async () => ((await fetch(`${url}/healthz`).catch(() => null))?.ok ? true : undefined), 60_000);
        assert.match(out, /MODE=web, .*mlops\.vsix installed; VS Code on http:\/\/127\.0\.0\.1:\d+ \(auth: password\)/);
        const listed = spawnSync(path.join(bin, 'code-server'), ['--list-extensions', '--show-versions'], { env, encoding: 'utf8' });
        assert.match(listed.stdout, /^mlops-template\.mlops-template@\d+\.\d+\.\d+$/m);
        await checkPasswordLogin(url, 'web-secret');
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exited, 0, out);
      await assertClosed(port, promPort);
    },
  );
});
