import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Frame, Page } from 'playwright-core';
import { apiTokenHeader } from '../../common/api-token';
import type { RunRecord, ServerStatus } from '../../common/contract';
import { IRIS_CSV, ROOT, mlops, needs, tempDataDir } from '../helpers/cli';
import { debianPython } from '../helpers/python';
import { SAMPLE, waitFor } from '../helpers/server';
import { freePort } from '../helpers/net';
import { CACHE, CHROMIUM, installed, startWorkbench, type Workbench } from './code-server';
import {
  launchChromium,
  palette as runCommand,
  quickPickChoose as chooseQuickPick,
  quickPickEnter as acceptQuickPick,
  view as paneOf,
} from './workbench';

// The packaged .vsix in a real VS Code workbench (code-server) driven by headless Chromium:
// train from the command palette, see the run and the version, promote, open the metrics, predict;
// train the regression example and see its evaluation pictures in the metrics webview.
const SHOTS = path.join(ROOT, 'test-results', 'e2e');
const PENGUINS = path.join(ROOT, 'pipeline', 'examples', 'penguins', 'pipeline.ts');
const ready = fs.existsSync(CHROMIUM) && installed();
const jupyter = debianPython('nbclient', 'ipykernel', 'numpy', 'pandas', 'onnx');
/** Pipelines New Pipeline… wrote into the workspace (the project): removed after the suite. */
const scaffolded: string[] = [];
const skip = needs(
  ready,
  `Chromium at ${CHROMIUM} and code-server in ${CACHE} (node --import tsx test/e2e/install-code-server.ts; apt-get install chromium)`,
);

describe('VS Code end to end', { skip, timeout: 420_000 }, () => {
  let workbench: Workbench;
  let browser: Browser;
  let page: Page;
  let serverUrl: string;
  const dataDir = tempDataDir('mlops-e2e-data-');
  /** The server's /api takes the token it writes into its data dir, as the extension reads it. */
  const api = (route: string) => fetch(`${serverUrl}${route}`, { headers: apiTokenHeader(dataDir) });
  const remoteFromWebviews: string[] = [];

  before(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    // Package what `npm test` just built (rebuilding dist/ here could pull it from under other tests).
    const vsix = path.join(tempDataDir('mlops-e2e-vsix-'), 'mlops.vsix');
    const pack = spawnSync(
      process.execPath,
      [path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--out', vsix],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(pack.status, 0, pack.stdout + pack.stderr);
    const port = await freePort();
    serverUrl = `http://127.0.0.1:${port}`;
    workbench = await startWorkbench(vsix, ROOT, {
      'security.workspace.trust.enabled': false,
      'workbench.startupEditor': 'none',
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'chat.disableAIFeatures': true,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'mlops.server.port': port,
      'mlops.dataDirectory': dataDir,
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('request', (r) => {
      const url = new URL(r.url());
      const fromWebview = r.frame().url().includes('webview');
      // asWebviewUri addresses (*.vscode-resource.vscode-cdn.net) never leave the browser: the
      // webview's service worker answers them from the workbench's own server.
      const local =
        ['127.0.0.1', 'localhost'].includes(url.hostname) ||
        url.hostname.endsWith('.vscode-resource.vscode-cdn.net') ||
        ['data:', 'blob:'].includes(url.protocol);
      if (fromWebview && !local) remoteFromWebviews.push(r.url());
    });
    await page.goto(workbench.url);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  });

  after(async () => {
    // The server is the extension's child; stop it even if the workbench dies without deactivating.
    const pid = await api('/api/status')
      .then((r) => r.json() as Promise<ServerStatus>)
      .then(
        (s) => s.pid,
        () => null,
      );
    await browser?.close();
    await workbench?.stop();
    for (const dir of scaffolded) fs.rmSync(dir, { recursive: true, force: true });
    if (fs.existsSync(path.join(ROOT, 'pipelines')) && fs.readdirSync(path.join(ROOT, 'pipelines')).length === 0)
      fs.rmdirSync(path.join(ROOT, 'pipelines'));
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone with its extension host
      }
    }
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  const palette = (command: string) => runCommand(page, command);
  const quickPickEnter = (title?: string) => acceptQuickPick(page, title);
  const quickPickChoose = (text: string, title: string) => chooseQuickPick(page, text, title);
  const view = (name: string) => paneOf(page, name);
  /** The metrics webview's frame (its rate chart is there), once it has loaded. */
  const metricsWebview = () =>
    waitFor(
      'the metrics webview',
      async (): Promise<Frame | undefined> => {
        for (const f of page.frames()) if (await f.$('#chart-rate').catch(() => null)) return f;
        return undefined;
      },
      30_000,
    );

  test('the MLOps activity-bar container shows both views and the welcome content', async () => {
    await page.click('.activitybar [aria-label^="MLOps"]');
    await view('Pipeline Runs').getByText('Train the example').first().waitFor({ timeout: 30_000 });
    await view('Model Registry').getByText('No models registered yet').waitFor();
    await waitFor(
      'the extension to start the server',
      async () => ((await fetch(`${serverUrl}/healthz`).catch(() => null))?.ok ? true : undefined),
      30_000,
    );
    await shot('01-sidebar');
  });

  test('MLOps: Train from the command palette: the run appears and succeeds, the version is registered', async () => {
    await palette('MLOps: Train');
    await quickPickEnter('Train — pipeline'); // the default (the iris example)
    await quickPickEnter('Train — params'); // the defaults
    await view('Pipeline Runs')
      .getByText('iris v1')
      .waitFor({ timeout: 60_000 })
      .catch(async (err: unknown) => {
        await shot('02-train-failed'); // the notifications say why
        throw err;
      });
    assert.equal(await view('Pipeline Runs').locator('.codicon-pass').count(), 1, 'a succeeded run');
    await view('Model Registry').getByText('v1', { exact: true }).waitFor({ timeout: 20_000 });
    await view('Model Registry')
      .getByText(/@latest/)
      .waitFor();
    await shot('02-trained');
  });

  test('promote the version: the registry tree shows the alias and the server follows', async () => {
    await palette('MLOps: Promote Model Version');
    await quickPickEnter('iris: version'); // v1
    await quickPickEnter('Promote iris v1 to alias'); // production
    await view('Model Registry')
      .getByText(/@production/)
      .waitFor({ timeout: 20_000 });
    await waitFor('serving production', async () => {
      const s = (await (await api('/api/status')).json()) as ServerStatus;
      return s.serving?.selector === 'production' ? true : undefined;
    });
    await shot('03-promoted');
  });

  test('the metrics webview charts live traffic; the status bar shows the served model and its rate', async () => {
    await palette('MLOps: Show Metrics');
    const frame = await metricsWebview();
    const stop = Date.now() + 6000;
    let sent = 0;
    while (Date.now() < stop) {
      const res = await fetch(`${serverUrl}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(SAMPLE),
      });
      assert.equal(res.status, 200);
      sent++;
      await new Promise((r) => setTimeout(r, 20));
    }
    await palette('MLOps: Send Test Prediction');
    const label = '(Setosa|Versicolor|Virginica)';
    const prediction = new RegExp(`Prediction from iris/1 \\(2 sample records\\): ${label}, ${label}`);
    await page.locator('.notifications-toasts').getByText(prediction).waitFor({ timeout: 10_000 });
    assert.ok(sent > 50);
    await waitFor(
      'the webview title',
      async () => ((await frame.textContent('#title'))?.includes('iris@production — version 1') ? true : undefined),
      15_000,
    );
    await waitFor(
      'drift data in the webview',
      async () => (/drift window: [1-9]\d* of 1000 rows/.test((await frame.textContent('#message')) ?? '') ? true : undefined),
      15_000,
    );
    for (const chart of ['#chart-rate', '#chart-latency', '#chart-classes', '#chart-psi', '#chart-ks'])
      assert.ok(await frame.$(`${chart} canvas`), `${chart} drawn`);
    assert.match((await frame.textContent('#training-metrics')) ?? '', /accuracy/);
    const statusBar = page.locator('.statusbar-item').filter({ hasText: 'iris@production v1' });
    await statusBar.waitFor({ timeout: 10_000 });
    assert.match((await statusBar.textContent()) ?? '', /iris@production v1 · [\d.]+ req\/s/);
    await shot('04-metrics');
    await checkCsp(frame);
  });

  test('a challenger in shadow shows beside the champion in the metrics webview; Promote Challenger moves production', async () => {
    const trained = mlops(dataDir, ['train', '-q', '--param', 'trainer=logistic_regression']); // iris v2
    assert.equal(trained.code, 0, trained.stderr);
    const headers = { 'content-type': 'application/json', ...apiTokenHeader(dataDir) };
    const set = await fetch(`${serverUrl}/api/models/iris/aliases/challenger`, { method: 'PUT', headers, body: '{"version":2}' });
    assert.equal(set.status, 200);
    await palette('MLOps: Show Metrics');
    const frame = await metricsWebview();
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${serverUrl}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(SAMPLE),
      });
      assert.equal(res.status, 200);
    }
    const table = await waitFor(
      'the champion-and-challenger view',
      async () => {
        const text = (await frame.textContent('#challenger-table').catch(() => null)) ?? '';
        return /iris v1.*iris v2/.test(text) && /agreement[\d.]+% of [1-9]\d* rows/.test(text) ? text : undefined;
      },
      20_000,
    );
    assert.match(table, /shadow: runs beside 100\.0% of requests/);
    await shot('05-challenger');
    await palette('MLOps: Promote Challenger');
    await page.locator('.monaco-dialog-box').getByRole('button', { name: 'Promote' }).click();
    await page
      .locator('.notifications-toasts')
      .getByText(/iris@production: 1 → 2; iris@challenger: 2 removed/)
      .waitFor({ timeout: 10_000 });
    await waitFor('the challenger view gone', async () => ((await frame.$('#challenger[hidden]')) ? true : undefined), 15_000);
  });

  test('a firing alert is a notification with Show Metrics and Retrain; the metrics webview lists it', async () => {
    // Inputs far from the training data: drift_psi fires after three 10 s evaluations (README "Alerts").
    const shifted = Array.from({ length: 1000 }, () => ({ sepal_length: 7.9, sepal_width: 2, petal_length: 6.9, petal_width: 2.5 }));
    const res = await fetch(`${serverUrl}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(shifted),
    });
    assert.equal(res.status, 200);
    const toasts = page.locator('.notifications-toasts');
    await toasts.getByText(/MLOps alert drift_psi: PSI of \w+ [\d.]+ > 0\.25/).waitFor({ timeout: 90_000 });
    await toasts.getByRole('button', { name: 'Retrain' }).first().waitFor({ timeout: 5_000 });
    await shot('06-alert');
    await toasts.getByRole('button', { name: 'Show Metrics' }).first().click();
    const frame = await metricsWebview();
    await waitFor(
      'the alert in the metrics webview',
      async () => (/drift_psifiring since/.test((await frame.textContent('#alerts').catch(() => null)) ?? '') ? true : undefined),
      15_000,
    );
    await palette('Notifications: Clear All Notifications'); // the drift_ks alert's toast too: later tests start clean
  });

  test(
    'the regression example trains, and its version shows predicted vs actual in the metrics webview',
    { skip: !fs.existsSync(PENGUINS) && `no regression example at ${PENGUINS}` },
    async () => {
      await palette('MLOps: Train');
      await quickPickChoose('penguins', 'Train — pipeline'); // pipeline/examples/penguins
      await quickPickEnter('Train — params'); // the defaults (named: an Enter before it appears lands on the pipeline pick)
      await view('Pipeline Runs')
        .getByText('penguins v1')
        .waitFor({ timeout: 120_000 })
        .catch(async (err: unknown) => {
          await shot('05-regression-train-failed');
          throw err;
        });
      await view('Model Registry')
        .getByText(/regression · RMSE [\d.]+ · R² 0\.\d+/)
        .waitFor({ timeout: 20_000 });
      await palette('MLOps: Show Version Metrics');
      await quickPickChoose('penguins', 'Model');
      await quickPickEnter('penguins: version'); // its only version (named: an Enter before it appears lands on the model pick)
      const frame = await metricsWebview();
      let heading: string | null = null;
      await waitFor(
        'the regression version in the webview',
        async () => (/penguins version 1.*: regression/.test((heading = await frame.textContent('#version h2')) ?? '') ? true : undefined),
        20_000,
      ).catch(async (err: unknown) => {
        await shot('05-regression-webview-failed');
        throw new Error(`${(err as Error).message}; its heading: ${JSON.stringify(heading)}`);
      });
      const plot = 'img[data-name="predicted_vs_actual.svg"]';
      const size = await waitFor(
        'the predicted vs actual picture to load',
        async () => {
          const img = await frame.$(plot);
          // The element is an HTMLImageElement (this test's types have no DOM): loaded once it has a natural size.
          const loaded = await img?.evaluate((i) => {
            const image = i as unknown as { complete: boolean; naturalWidth: number };
            return image.complete ? image.naturalWidth : 0;
          });
          return loaded ? loaded : undefined;
        },
        20_000,
      );
      assert.ok(size > 100, `the plot is drawn (${size} px wide)`);
      assert.ok(await frame.$('img[data-name="residuals.svg"]'), 'the residual histogram is shown too');
      assert.equal(await frame.$('img[data-name="confusion_matrix.svg"]'), null, 'no confusion matrix for a regression');
      assert.match(
        (await frame.getAttribute(plot, 'src')) ?? '',
        /vscode-resource\.vscode-cdn\.net\/.*\/runs\/.*\/artifacts\/predicted_vs_actual\.svg$/,
      );
      const metrics = (await frame.textContent('#training-metrics')) ?? '';
      for (const name of ['rmse', 'mae', 'r2']) assert.match(metrics, new RegExp(`${name}\\d`), `${name} in the metrics table`);
      assert.match((await frame.textContent('#signature-inputs')) ?? '', /islandstring, 3 categories/);
      await frame.$eval(plot, (i) => i.scrollIntoView());
      await shot('05-regression-metrics');
      await checkCsp(frame);
    },
  );

  test('the run graph draws the iris run as a DAG; a node opens its log, an artifact opens in its editor', async () => {
    const runs = (await (await api('/api/runs')).json()) as RunRecord[];
    const run = runs.find((r) => r.pipeline === 'iris' && r.status === 'succeeded');
    assert.ok(run, 'the iris run of the Train test');
    await palette('MLOps: Show Run Graph');
    await quickPickChoose(run.id, 'Show Run Graph');
    const frame = await waitFor(
      'the run graph webview',
      async (): Promise<Frame | undefined> => {
        for (const f of page.frames()) if (await f.$('#graph g.node').catch(() => null)) return f;
        return undefined;
      },
      30_000,
    );
    const nodes = await frame.$$eval('#graph g.node', (gs) => gs.map((g) => [g.getAttribute('data-step'), g.getAttribute('class')]));
    assert.deepEqual(
      nodes,
      run.steps.map((st) => [st.name, `node status-${st.status}`]),
    );
    const edges = await frame.$$eval('#graph path.edge', (ps) =>
      ps.map((p) => `${p.getAttribute('data-from')}->${p.getAttribute('data-to')}`),
    );
    assert.deepEqual(edges.sort(), run.steps.flatMap((st) => st.needs.map((n) => `${n}->${st.name}`)).sort());
    await shot('06-run-graph');
    await checkCsp(frame, 'dag');
    await frame.click('#graph g.node[data-step="train"]');
    await page.locator('.tabs-container .tab').filter({ hasText: 'train.log' }).waitFor({ timeout: 15_000 });

    // The picture the evaluate step wrote, under its step in the runs tree: opened as an image.
    const tree = view('Pipeline Runs');
    await tree.getByText(`iris · ${run.id}`).click();
    await tree
      .locator('.monaco-list-row')
      .filter({ hasText: /^evaluate/ })
      .locator('.monaco-tl-twistie')
      .click();
    await tree.getByText('confusion_matrix.svg').click();
    await page.locator('.tabs-container .tab').filter({ hasText: 'confusion_matrix.svg' }).waitFor({ timeout: 15_000 });
    await waitFor(
      'the image preview',
      async () => {
        for (const f of page.frames()) if (await f.$('img[src*="confusion_matrix.svg"]').catch(() => null)) return true;
        return undefined;
      },
      15_000,
    );
    await shot('07-artifact');

    // Open Run Folder: this suite's data dir is outside the workspace, so it offers to add the folder.
    await tree.getByText(`iris · ${run.id}`).click({ button: 'right' });
    const item = page.locator('.context-view .action-label').filter({ hasText: 'Open Run Folder' });
    await item.waitFor();
    await page.waitForTimeout(300); // the menu takes the first click only once it is laid out
    await item.click();
    const offer = page.locator('.notifications-toasts').filter({ hasText: `run ${run.id} folder` });
    await offer
      .getByText('is outside the workspace')
      .waitFor({ timeout: 20_000 })
      .catch(async (err: unknown) => {
        await shot('07-open-run-folder-failed');
        throw err;
      });
    await offer.getByRole('button', { name: 'Add to Workspace' }).waitFor();
  });

  test(
    'MLOps: New Pipeline… scaffolds a notebook pipeline from a CSV and trains it; its executed notebook opens in the notebook editor',
    { skip: needs(jupyter !== null, 'python3 with nbclient, ipykernel, numpy, pandas and onnx') },
    async () => {
      const name = `e2e-nb-${process.pid}`;
      scaffolded.push(path.join(ROOT, 'pipelines', name));
      await palette('MLOps: New Pipeline');
      await quickPickChoose('A notebook step', 'kind of steps');
      // The file dialog (VS Code's own in a browser): a path box.
      const input = page.locator('.quick-input-widget input');
      await page.locator('.quick-input-widget').getByText('MLOps: New Pipeline — data').waitFor();
      await waitFor('the dialog to show its folder', async () => ((await input.inputValue()).endsWith('/') ? true : undefined), 10_000);
      // The dialog follows the typed path as it changes: Enter is pressed once it lists the file, and
      // again (typing the path anew) if it navigated somewhere else instead of accepting it.
      const asked = page.locator('.quick-input-widget').getByText('the column to predict');
      const listed = page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'iris_dataset.csv' });
      for (let i = 0; i < 3 && !(await asked.isVisible()); i++) {
        await input.fill(IRIS_CSV);
        await listed.waitFor({ timeout: 5000 }).catch(() => undefined);
        await page.keyboard.press('Enter');
        await asked.waitFor({ timeout: 5000 }).catch(() => undefined);
      }
      await quickPickChoose('variety', 'the column to predict').catch(async (err: unknown) => {
        await shot('08-new-pipeline-target-failed');
        throw err;
      });
      await input.waitFor({ state: 'visible' });
      await input.fill(name);
      await page.keyboard.press('Enter');
      await page.locator('.tabs-container .tab').filter({ hasText: 'pipeline.ts' }).waitFor({ timeout: 15_000 });
      const tree = view('Pipeline Runs');
      await tree
        .getByText(`${name} v1`)
        .waitFor({ timeout: 120_000 })
        .catch(async (err: unknown) => {
          await shot('08-new-pipeline-failed');
          throw err;
        });
      const runs = (await (await api('/api/runs')).json()) as RunRecord[];
      const runId = runs.find((r) => r.pipeline === name)!.id;
      // Other runs have a train step too: this run's is told apart by its accessible label. The tree redraws
      // as the run's last events arrive, which may swallow a click (on the run or on its step): each round
      // clicks whichever of the two is not yet open, until the step's files show.
      const runRow = tree.getByText(new RegExp(`^${name} · `));
      const stepRow = tree.locator(`.monaco-list-row[aria-label^="train, step of run ${runId}"]`);
      const notebookRow = tree.getByText('train.ipynb');
      for (let i = 0; i < 8 && !(await notebookRow.isVisible()); i++) {
        if (await stepRow.isVisible())
          await stepRow
            .locator('.monaco-tl-twistie')
            .click({ timeout: 3000 })
            .catch(() => undefined);
        else await runRow.click({ timeout: 3000 }).catch(() => undefined);
        await notebookRow
          .or(stepRow)
          .first()
          .waitFor({ timeout: 3000 })
          .catch(() => undefined);
        await page.waitForTimeout(500);
      }
      await tree
        .getByText('train.ipynb')
        .click()
        .catch(async (err: unknown) => {
          await shot('08-new-pipeline-tree-failed');
          throw err;
        });
      await page.locator('.tabs-container .tab').filter({ hasText: 'train.ipynb' }).waitFor({ timeout: 15_000 });
      // The notebook editor: the cells of the executed copy, the parameters cell among the first.
      const notebook = page.locator('.notebook-editor');
      await notebook.locator('.view-line').filter({ hasText: 'learningRate' }).first().waitFor({ timeout: 20_000 });
      await shot('08-new-pipeline-notebook');
    },
  );

  test('webviews load nothing remote', () => {
    assert.deepEqual(remoteFromWebviews, []);
  });
});

async function checkCsp(frame: Frame, script = 'metrics'): Promise<void> {
  const csp: string = await frame.$eval('meta[http-equiv="Content-Security-Policy"]', (m) => m.getAttribute('content') ?? '');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'nonce-[A-Za-z0-9+/=]+'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  // Beyond 'self', data: and the nonce, the only source allowed is the webview's own resource
  // origin (webview.cspSource, https://*.vscode-cdn.net): nothing remote.
  const sources = csp.split(';').flatMap((d) => d.trim().split(/\s+/).slice(1));
  assert.deepEqual(
    [...new Set(sources.filter((s) => !["'none'", "'self'", 'data:', 'https://*.vscode-cdn.net'].includes(s) && !s.startsWith("'nonce-")))],
    [],
  );
  const nonce = /'nonce-([^']+)'/.exec(csp)![1];
  const ours = await frame.$$eval('script[src]', (s) => s.map((x) => ({ nonce: x.nonce ?? '', src: x.getAttribute('src') ?? '' })));
  assert.ok(ours.length > 0, 'the view script is loaded from a file');
  for (const s of ours) {
    assert.equal(s.nonce, nonce, `${s.src} carries the CSP nonce`);
    assert.match(s.src, new RegExp(`vscode-resource\\.vscode-cdn\\.net/.*/media/dist/${script}\\.js$`));
  }
}
