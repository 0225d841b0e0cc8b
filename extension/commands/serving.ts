import { execFile } from 'node:child_process';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LoadTestResult } from '../../common/contract';
import { errors } from '../../common/errors';
import type { Deps } from '../deps';
import { predictionSummary } from '../model-text';
import { baseUrl, settings } from '../settings';
import { MetricsPanel } from '../views/metrics-panel';
import { command } from './register';

export function registerServingCommands(d: Deps): vscode.Disposable[] {
  return [
    command(d, 'mlops.startServer', async () => {
      await d.server.start();
      d.stream.kick();
    }),
    command(d, 'mlops.stopServer', () => d.server.stop()),
    command(d, 'mlops.restartServer', async () => {
      await d.server.restart();
      d.stream.kick();
    }),
    command(d, 'mlops.showMetrics', async () => {
      void d.server.ensure().catch((err: Error) => d.log.warn(err.message));
      MetricsPanel.show(d.context.extensionUri, d.api, d.stream);
    }),
    command(d, 'mlops.openDocs', async () => vscode.env.openExternal(vscode.Uri.parse(`${baseUrl()}/docs`))),
    command(d, 'mlops.sendTestPrediction', async () => {
      await d.server.ensure();
      const { serving, lastError } = await d.api.status();
      if (!serving) throw errors.nothingServed(lastError);
      const records = await d.api.sample(serving.model);
      const { body, version } = await d.api.predict(records);
      const answer = predictionSummary(serving.signature, body);
      void vscode.window.showInformationMessage(`Prediction from ${version} (${records.length} sample records): ${answer}`);
    }),
    command(d, 'mlops.runLoadTest', async () => {
      await d.server.ensure();
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'MLOps: load test (10 s, 32 connections)' },
        () => loadTest(),
      );
      MetricsPanel.show(d.context.extensionUri, d.api, d.stream);
      MetricsPanel.post({ type: 'loadtest', result });
      void vscode.window.showInformationMessage(
        `Load test: ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.latencyMs.p99} ms, ${result.errors} errors`,
      );
    }),
    command(d, 'mlops.showLogs', async () => d.log.show()),
    command(d, 'mlops.refresh', () => Promise.all([d.runs.refresh(), d.models.refresh()])),
  ];
}

/** `mlops loadtest --json` from the project, as a child process (autocannon stays out of the extension host). */
function loadTest(): Promise<LoadTestResult> {
  const s = settings();
  if (!s.projectDirectory) throw errors.noProject();
  const cli = path.join(s.projectDirectory, 'bin', 'mlops.js');
  return new Promise((resolve, reject) => {
    execFile(
      s.nodePath,
      [cli, 'loadtest', '--json', '--duration', '10', '--url', `${baseUrl(s)}/predict`],
      { cwd: s.projectDirectory!, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(errors.loadTest(stderr.trim().split('\n').at(-1) || err.message));
        try {
          resolve(JSON.parse(stdout) as LoadTestResult);
        } catch {
          reject(errors.loadTest(`mlops loadtest printed no JSON: ${stdout.slice(0, 200)}`));
        }
      },
    );
  });
}
