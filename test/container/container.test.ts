import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXIT, type ModelSummary } from '../../common/contract';
import { CHROMIUM, CODE_SERVER_VERSION } from '../e2e/code-server';
import { launchChromium, palette, quickPickEnter, view } from '../e2e/workbench';
import { ROOT, json, mlops, needs, tempDataDir } from '../helpers/cli';
import { checkPasswordLogin, readDevcontainerConfig, vsixPaths } from '../helpers/devcontainer';
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
      const args = ['--build-arg', `BASE=${BASE}`, '--build-arg', `CODE_SERVER_VERSION=${CODE_SERVER_VERSION}`];
      const dockerfile = ['-f', '.devcontainer/Dockerfile', '-t', IMAGE, ROOT];
      const build = podman(['build', '--network', 'host', ...ca, ...args, ...dockerfile], { timeoutMs: 40 * 60_000 });
      check(build, 'podman build');
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
        const [codeData, data] = [tempDataDir('mlops-container-code-'), tempDataDir('mlops-container-vsc-')];
        fs.mkdirSync(path.join(codeData, 'User'));
        const settings = {
          'security.workspace.trust.enabled': false,
          'workbench.startupEditor': 'none',
          'chat.disableAIFeatures': true,
          'telemetry.telemetryLevel': 'off',
          'mlops.server.port': apiPort,
        };
        fs.writeFileSync(path.join(codeData, 'User', 'settings.json'), JSON.stringify(settings));
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

    test('MODE=web: the entry point installs the same package into code-server and serves it behind its password', async () => {
      const refused = run('none', ['-e', 'MODE=web', '-e', 'CODE_SERVER_HOST=0.0.0.0']);
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /needs PASSWORD, PASSWORD_FILE or HASHED_PASSWORD/);

      const [port, promPort] = [await freePort(), await freePort()];
      const env = ['-e', 'MODE=web', '-e', `CODE_SERVER_PORT=${port}`, '-e', 'PASSWORD=web-secret', '-e', `PROMETHEUS_PORT=${promPort}`];
      check(podman(['run', '-d', '--name', 'mlops-web-test', '--network', 'host', ...env, IMAGE]), 'podman run web');
      const url = `http://127.0.0.1:${port}`;
      await waitFor('code-server', () => healthy(`${url}/healthz`), 120_000);
      const listed = check(podman(['exec', 'mlops-web-test', 'code-server', '--list-extensions', '--show-versions']), 'list extensions');
      assert.ok(listed.split('\n').includes(`${OURS.publisher}.${OURS.name}@${OURS.version}`), listed);
      await checkPasswordLogin(url, 'web-secret');
      check(podman(['stop', '-t', '20', 'mlops-web-test'], { timeoutMs: 60_000 }), 'podman stop');
      const state = check(podman(['inspect', 'mlops-web-test', '--format', '{{.State.ExitCode}}']), 'podman inspect').trim();
      assert.equal(state, '0', 'SIGTERM ends code-server and Prometheus with exit code 0');
    });
  },
);
