import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXIT, type ModelSummary } from '../../common/contract';
import { CHROMIUM } from '../e2e/code-server';
import { launchChromium, palette, quickPickEnter, view } from '../e2e/workbench';
import type { Page } from 'playwright-core';
import { ROOT, json, mlops, needs, tempDataDir } from '../helpers/cli';
import { readDevcontainerConfig, vsixPaths } from '../helpers/devcontainer';
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

// Inside the image: each path opens as a zip whose members all check out, with the files VS Code
// needs to install it, and the extension's manifest is printed for the test to compare.
const READ_VSIX = `
import json, sys, zipfile
out = []
for p in sys.argv[1:]:
    with zipfile.ZipFile(p) as z:
        bad = z.testzip()
        if bad: sys.exit(f'{p}: corrupt member {bad}')
        for member in ('extension.vsixmanifest', '[Content_Types].xml', 'extension/package.json', 'extension/dist/extension.js'):
            if member not in z.namelist(): sys.exit(f'{p}: no {member}')
        out.append({'path': p, 'manifest': json.loads(z.read('extension/package.json'))})
print(json.dumps(out))
`;

interface Manifest {
  name: string;
  publisher: string;
  version: string;
  contributes: { views: Record<string, { id: string; name: string }[]>; commands: { command: string; title: string; category?: string }[] };
}

const OURS = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;
/** A code-server user data folder on the host, with the settings a test's workbench starts with. */
function codeServerUserData(apiPort: number): string {
  const dir = tempDataDir('mlops-container-code-');
  fs.mkdirSync(path.join(dir, 'User'));
  const settings = {
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'chat.disableAIFeatures': true,
    'telemetry.telemetryLevel': 'off',
    'mlops.server.port': apiPort,
  };
  fs.writeFileSync(path.join(dir, 'User', 'settings.json'), JSON.stringify(settings));
  return dir;
}

/** code-server's login page, as a user meets it: a wrong password is refused, the right one opens the workbench. */
async function logIn(page: Page, url: string, password: string): Promise<void> {
  await page.goto(`${url}/?folder=/opt/mlops`);
  await page.waitForURL(/\/login/, { timeout: 30_000 });
  const submit = async (p: string) => {
    await page.fill('input.password', p);
    await page.click('input.submit');
  };
  await submit(`not-${password}`);
  await page.getByText('Incorrect password').waitFor({ timeout: 30_000 });
  await submit(password);
  await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
}

const healthy = async (url: string) => ((await fetch(url).catch(() => null))?.ok ? true : undefined);

describe(
  'the container image (podman, no Docker engine)',
  { skip: needs(ready, 'podman, runc and debootstrap (apt-get install podman runc debootstrap)'), timeout: 45 * 60_000 },
  () => {
    const data = tempDataDir('mlops-container-');
    // tini, the image's entry point, is PID 1: podman stop's SIGTERM reaches the entrypoint script.
    const run = (network: 'host' | 'none', extra: string[], args: string[] = []) =>
      podman(['run', '--rm', '--network', network, '-v', `${data}:/opt/mlops/local_data`, ...extra, IMAGE, ...args], {
        timeoutMs: 300_000,
      });

    // One name per `podman rm`: given several, podman 4.3 removes none when one of them is missing.
    const remove = (name: string) => podman(['rm', '-f', name]);
    const NAMES = ['mlops-api-test', 'mlops-vsc-test', 'mlops-web-test'];
    before(() => {
      NAMES.forEach(remove); // left by an interrupted run
      ensureBaseImage(BASE);
      // The host's CA bundle goes in too: this machine reaches the npm registry through a proxy
      // whose certificate only the host trusts (Node's own CA list does not have it).
      const ca = ['-v', '/etc/ssl/certs/ca-certificates.crt:/tmp/host-ca.crt:ro', '--build-arg', 'npm_config_cafile=/tmp/host-ca.crt'];
      const dockerfile = ['-f', '.devcontainer/Dockerfile', '-t', IMAGE, ROOT];
      const started = Date.now();
      const build = podman(['build', '--network', 'host', ...ca, '--build-arg', `BASE=${BASE}`, ...dockerfile], { timeoutMs: 40 * 60_000 });
      check(build, 'podman build');
      console.log(`podman build: ${Math.round((Date.now() - started) / 1000)} s`);
    });
    after(() => NAMES.forEach(remove));

    test('MODE=train runs the pipeline once, offline, and exits with its code', () => {
      const r = run('none', ['-e', 'MODE=train']);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /registered iris version 1/);
      const models = json<ModelSummary[]>(mlops(data, ['models', 'list', '--json']));
      assert.deepEqual(
        models.map((m) => [m.name, m.latest]),
        [['iris', 1]],
      );
      const rejected = run('none', ['-e', 'MODE=train'], ['--param', 'minAccuracy=1']);
      assert.equal(rejected.status, EXIT.rejected, 'a gate rejection passes through MODE=train as its own exit code');
    });

    test('MODE=api: the server answers from the host, Prometheus inside scrapes it, podman stop ends both cleanly', async () => {
      const [port, promPort] = [await freePort(), await freePort()];
      check(
        podman([
          'run',
          '-d',
          '--name',
          'mlops-api-test',
          '--network',
          'host',
          '-v',
          `${data}:/opt/mlops/local_data`,
          '-e',
          'MODE=api',
          '-e',
          `MLOPS_PORT=${port}`,
          '-e',
          `PROMETHEUS_PORT=${promPort}`,
          '-e',
          'PROMETHEUS_SCRAPE_INTERVAL=1s',
          '-e',
          'MLOPS_REQUEST_LOG=false',
          IMAGE,
        ]),
        'podman run api',
      );
      const url = `http://127.0.0.1:${port}`;
      await waitFor('/readyz', async () => ((await fetch(`${url}/readyz`).catch(() => null))?.ok ? true : undefined), 60_000);
      const predict = () =>
        fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(SAMPLE) });
      assert.deepEqual(await (await predict()).json(), [{ variety: 'Virginica' }, { variety: 'Versicolor' }]);
      await waitFor('up == 1', async () => ((await promQuery(promPort, 'up{job="mlops"}')) === 1 ? true : undefined), 60_000);
      const before = await waitFor('a prediction counter', () => promQuery(promPort, 'sum(mlops_predictions_total)'), 60_000);
      for (let i = 0; i < 5; i++) await predict();
      await waitFor(
        'the counter to rise',
        async () => (((await promQuery(promPort, 'sum(mlops_predictions_total)')) ?? 0) >= before + 10 ? true : undefined),
        60_000,
      );

      check(podman(['stop', '-t', '20', 'mlops-api-test'], { timeoutMs: 60_000 }), 'podman stop');
      const state = check(
        podman(['inspect', 'mlops-api-test', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}']),
        'podman inspect',
      ).trim();
      assert.equal(state, '0 false', 'SIGTERM ends the server and Prometheus with exit code 0');
      for (const p of [port, promPort])
        assert.equal(
          await fetch(`http://127.0.0.1:${p}/`).then(
            () => 'open',
            () => 'closed',
          ),
          'closed',
        );
    });

    test('each extension devcontainer.json lists is, inside the image, a valid package of this extension', () => {
      const paths = vsixPaths(readDevcontainerConfig());
      assert.ok(paths.length > 0, 'customizations.vscode.extensions lists a package by path');
      const read = check(podman(['run', '--rm', '--network', 'none', '--entrypoint', 'python3', IMAGE, '-c', READ_VSIX, ...paths]), 'read');
      const packages = JSON.parse(read) as { path: string; manifest: Manifest }[];
      assert.deepEqual(
        packages.map((p) => p.path),
        paths,
      );
      for (const { manifest: m } of packages) {
        assert.deepEqual([m.publisher, m.name, m.version], [OURS.publisher, OURS.name, OURS.version]);
        assert.deepEqual(
          m.contributes.views.mlops.map((v) => v.name),
          ['Pipeline Runs', 'Model Registry'],
        );
        const train = m.contributes.commands.find((c) => c.command === 'mlops.train');
        assert.equal(`${train?.category}: ${train?.title}`, 'MLOps: Train');
      }
    });

    test(
      'Reopen in Container: the VS Code server installs the listed packages, shows the MLOps view, and Train registers a version',
      {
        skip: needs(fs.existsSync(CHROMIUM), `Chromium at ${CHROMIUM} (apt-get install chromium)`),
      },
      async () => {
        // As Dev Containers does: the container runs its entry point (MODE=vsc, overrideCommand false),
        // then the VS Code server in it (here code-server) installs each listed extension and serves
        // the workspace. Its data dir is a host folder: the settings go in before it starts.
        const [codePort, apiPort, promPort] = [await freePort(), await freePort(), await freePort()];
        const [codeData, data] = [codeServerUserData(apiPort), tempDataDir('mlops-container-vsc-')];
        const volumes = ['-v', `${data}:/opt/mlops/local_data`, '-v', `${codeData}:/root/.local/share/code-server`];
        const env = ['-e', 'MODE=vsc', '-e', `PROMETHEUS_PORT=${promPort}`];
        check(podman(['run', '-d', '--name', 'mlops-vsc-test', '--network', 'host', ...volumes, ...env, IMAGE]), 'podman run vsc');
        for (const vsix of vsixPaths(readDevcontainerConfig())) {
          const installed = check(podman(['exec', 'mlops-vsc-test', 'code-server', '--install-extension', vsix]), `install ${vsix}`);
          assert.match(installed, /was successfully installed/);
        }
        const serve = ['--auth', 'none', '--bind-addr', `127.0.0.1:${codePort}`, '--disable-telemetry', '--disable-update-check'];
        serve.push('--disable-workspace-trust');
        check(podman(['exec', '-d', 'mlops-vsc-test', 'code-server', ...serve, '/opt/mlops']), 'code-server in the container');
        await waitFor('code-server', () => healthy(`http://127.0.0.1:${codePort}/healthz`), 60_000);

        fs.mkdirSync(path.join(ROOT, 'test-results', 'container'), { recursive: true });
        const browser = await launchChromium();
        try {
          const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
          const shot = (name: string) => page.screenshot({ path: path.join(ROOT, 'test-results', 'container', `${name}.png`) });
          await page.goto(`http://127.0.0.1:${codePort}/?folder=/opt/mlops`);
          await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
          await page.click('.activitybar [aria-label^="MLOps"]', { timeout: 60_000 });
          await view(page, 'Pipeline Runs').getByText('Train the example').first().waitFor({ timeout: 60_000 });
          await shot('01-mlops-view');
          await palette(page, 'MLOps: Train');
          await quickPickEnter(page); // pipeline: the default (the iris example)
          await quickPickEnter(page); // params: the defaults
          await view(page, 'Pipeline Runs').getByText('iris v1').waitFor({ timeout: 120_000 });
          await shot('02-trained');
          const models = json<ModelSummary[]>(mlops(data, ['models', 'list', '--json']));
          assert.deepEqual(
            models.map((m) => [m.name, m.latest]),
            [['iris', 1]],
          );

          // A developer's change: package the workspace and install it through VS Code's own command.
          await palette(page, 'MLOps: Reinstall Extension from Workspace');
          await page
            .locator('.notifications-toasts')
            .getByText(/Completed installing extension/)
            .waitFor({ timeout: 240_000 });
          const reload = 'MLOps: installed /opt/mlops/dist/mlops.vsix; reload the window to run it.';
          const toast = page.locator('.notification-toast').filter({ hasText: reload });
          await toast.waitFor();
          await shot('03-reinstalled');
          await toast.getByRole('button', { name: 'Reload Window' }).click();
          await page.waitForEvent('load', { timeout: 60_000 });
          await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
          await view(page, 'Pipeline Runs').getByText('iris v1').waitFor({ timeout: 60_000 });
          await shot('04-reloaded');
        } finally {
          await browser.close();
          remove('mlops-vsc-test');
        }
      },
    );

    test(
      'MODE=web: code-server with the preinstalled extension behind its password; Chromium logs in and finds the MLOps view',
      { skip: needs(fs.existsSync(CHROMIUM), `Chromium at ${CHROMIUM} (apt-get install chromium)`) },
      async () => {
        const refused = run('none', ['-e', 'MODE=web', '-e', 'MLOPS_WEB_HOST=0.0.0.0']);
        assert.equal(refused.status, 2);
        assert.match(refused.stderr, /MODE=web on 0\.0\.0\.0 needs MLOPS_WEB_PASSWORD or MLOPS_WEB_PASSWORD_FILE/);

        const [port, apiPort, promPort] = [await freePort(), await freePort(), await freePort()];
        const secrets = tempDataDir('mlops-container-secret-');
        fs.writeFileSync(path.join(secrets, 'web-password'), 'web-secret\n', { mode: 0o600 });
        const volumes = ['-v', `${secrets}:/run/secrets:ro`, '-v', `${codeServerUserData(apiPort)}:/root/.local/share/code-server`];
        const env = ['-e', 'MODE=web', '-e', `MLOPS_WEB_PORT=${port}`, '-e', 'MLOPS_WEB_PASSWORD_FILE=/run/secrets/web-password'];
        env.push('-e', `PROMETHEUS_PORT=${promPort}`, '-e', 'MLOPS_REQUEST_LOG=false');
        const name = 'mlops-web-test';
        check(podman(['run', '-d', '--name', name, '--network', 'host', ...volumes, ...env, IMAGE]), 'podman run web');
        const url = `http://127.0.0.1:${port}`;
        await waitFor('code-server', () => healthy(`${url}/healthz`), 120_000);
        const logs = check(podman(['logs', name]), 'podman logs');
        const ext = `${OURS.publisher}.${OURS.name}@${OURS.version}`;
        assert.ok(logs.includes(`MODE=web, VS Code (${ext}) on http://127.0.0.1:${port} behind its password login`), logs);
        assert.doesNotMatch(logs, /successfully installed/, 'nothing is installed at start: the image has the extension');

        fs.mkdirSync(path.join(ROOT, 'test-results', 'container'), { recursive: true });
        const browser = await launchChromium();
        try {
          const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
          const shot = (file: string) => page.screenshot({ path: path.join(ROOT, 'test-results', 'container', `${file}.png`) });
          await logIn(page, url, 'web-secret');
          await page.click('.activitybar [aria-label^="MLOps"]', { timeout: 60_000 });
          await view(page, 'Pipeline Runs').getByText('Train the example').first().waitFor({ timeout: 60_000 });
          await view(page, 'Model Registry').waitFor();
          await shot('05-web-mlops-view');
          // The server the extension started is up, and only the code-server process started with the secret
          // holds it: code-server drops it from its env, so the extension host, the server and pipeline steps never see it.
          await waitFor('the server', () => healthy(`http://127.0.0.1:${apiPort}/healthz`), 60_000);
          const holders = check(podman(['exec', name, 'sh', '-c', 'grep -l web-secret /proc/[0-9]*/environ; true']), 'environ');
          const commands = holders
            .split('\n')
            .filter(Boolean)
            .map((f) => check(podman(['exec', name, 'cat', f.replace('environ', 'cmdline')]), 'cmdline').replace(/\0/g, ' '));
          assert.equal(commands.length, 1, commands.join('\n'));
          assert.match(commands[0], /code-server --auth password/);
        } finally {
          await browser.close();
        }
        check(podman(['stop', '-t', '20', name], { timeoutMs: 60_000 }), 'podman stop');
        const state = check(podman(['inspect', name, '--format', '{{.State.ExitCode}}']), 'podman inspect').trim();
        assert.equal(state, '0', 'SIGTERM ends code-server, the server and Prometheus with exit code 0 (not killed at the timeout)');
      },
    );
  },
);
