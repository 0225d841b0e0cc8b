import { execFile } from 'node:child_process';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LoadTestResult } from '../../common/contract';
import type { Deps } from '../deps';
import { baseUrl, settings } from '../settings';
import { MetricsPanel } from '../views/metrics-panel';

/** The original template's sample request. */
export const SAMPLE = [
  { sepal_length: 6.7, sepal_width: 3.5, petal_length: 5.2, petal_width: 2.3 },
  { sepal_length: 6.6, sepal_width: 3, petal_length: 4.4, petal_width: 1.4 },
];

const guarded =
  (d: Deps, fn: () => Promise<unknown>) =>
  async (): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      d.log.error((err as Error).message);
      void vscode.window.showErrorMessage(`MLOps: ${(err as Error).message}`, 'Show Logs').then((p) => p && d.log.show());
    }
  };

export function registerServingCommands(d: Deps): vscode.Disposable[] {
  const command = (id: string, fn: () => Promise<unknown>) => vscode.commands.registerCommand(id, guarded(d, fn));
  return [
    command('mlops.startServer', async () => {
      await d.server.start();
      d.stream.kick();
    }),
    command('mlops.stopServer', () => d.server.stop()),
    command('mlops.restartServer', async () => {
      await d.server.restart();
      d.stream.kick();
    }),
    command('mlops.showMetrics', async () => {
      void d.server.ensure().catch((err: Error) => d.log.warn(err.message));
      MetricsPanel.show(d.context.extensionUri, d.api, d.stream);
    }),
    command('mlops.openDocs', async () => vscode.env.openExternal(vscode.Uri.parse(`${baseUrl()}/docs`))),
    command('mlops.sendTestPrediction', async () => {
      await d.server.ensure();
      const { body, version } = await d.api.predict(SAMPLE);
      const labels = (body as Record<string, string>[]).map((r) => Object.values(r)[0]).join(', ');
      void vscode.window.showInformationMessage(`Prediction from ${version}: ${labels}`);
    }),
    command('mlops.runLoadTest', async () => {
      await d.server.ensure();
      const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'MLOps: load test (10 s, 32 connections)' }, () => loadTest());
      MetricsPanel.show(d.context.extensionUri, d.api, d.stream);
      MetricsPanel.post({ type: 'loadtest', result });
      void vscode.window.showInformationMessage(`Load test: ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.latencyMs.p99} ms, ${result.errors} errors`);
    }),
    command('mlops.showLogs', async () => d.log.show()),
    command('mlops.refresh', () => Promise.all([d.runs.refresh(), d.models.refresh()])),
  ];
}

/** `mlops loadtest --json` from the project, as a child process (autocannon stays out of the extension host). */
function loadTest(): Promise<LoadTestResult> {
  const s = settings();
  if (!s.projectDirectory) throw new Error('open the project folder first');
  const cli = path.join(s.projectDirectory, 'bin', 'mlops.js');
  return new Promise((resolve, reject) => {
    execFile(s.nodePath, [cli, 'loadtest', '--json', '--duration', '10', '--url', `${baseUrl(s)}/predict`], { cwd: s.projectDirectory!, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(stderr.trim().split('\n').at(-1) || err.message));
      try {
        resolve(JSON.parse(stdout) as LoadTestResult);
      } catch {
        reject(new Error(`mlops loadtest printed no JSON: ${stdout.slice(0, 200)}`));
      }
    });
  });
}
