import path from 'node:path';
import * as vscode from 'vscode';
import type { RunRecord } from '../../common/contract';
import type { Deps } from '../deps';
import { runMetricsLine } from '../model-text';
import { settings } from '../settings';
import { MetricsPanel } from '../views/metrics-panel';
import { runToEnd } from './run-to-end';

/** "MLOps: Train": pick a pipeline, optionally set params, follow step x of y, cancellable. */
export async function train(d: Deps, preset?: { pipeline: string; params: Record<string, string> }): Promise<RunRecord | undefined> {
  await d.server.ensure();
  const choice = preset ?? (await ask());
  if (!choice) return undefined;
  const run = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'MLOps: training', cancellable: true },
    (progress, token) => {
      const cancel = new AbortController();
      const onCancel = token.onCancellationRequested(() => cancel.abort());
      const ended = runToEnd(
        d.api,
        d.stream,
        { pipeline: choice.pipeline || undefined, params: choice.params },
        {
          signal: cancel.signal,
          onStarted: (runId) => progress.report({ message: `${runId}: starting` }),
          onEvent: (ev) => {
            if (ev.type === 'step.started') {
              progress.report({ message: `${ev.runId}: step ${ev.index + 1} of ${ev.total}: ${ev.step}`, increment: 0 });
            }
            if (ev.type === 'step.finished') progress.report({ increment: 100 / ev.total });
            if (ev.type === 'run.finished' && cancel.signal.aborted) progress.report({ message: `${ev.runId}: cancelled` });
          },
        },
      );
      return ended.finally(() => onCancel.dispose());
    },
  );
  void d.runs.refresh();
  void d.models.refresh();
  void report(d, run); // not awaited: a message waits for the user
  return run;
}

async function report(d: Deps, run: RunRecord): Promise<void> {
  if (run.status === 'succeeded' && run.registered) {
    const alias = settings().defaultAlias;
    const promote = `Promote to ${alias}`;
    const pick = await vscode.window.showInformationMessage(
      `Registered ${run.registered.model} version ${run.registered.version} (${runMetricsLine(run.metrics) || 'no metrics'})`,
      promote,
      'Show Metrics',
    );
    if (pick === promote) await d.api.promote(run.registered.model, alias, run.registered.version);
    if (pick === 'Show Metrics') MetricsPanel.show(d.context.extensionUri, d.api, d.stream, run.registered);
  } else if (run.status === 'rejected') {
    void vscode.window.showWarningMessage(`Run ${run.id} was rejected by the gate: ${run.error}`);
  } else if (run.status === 'cancelled') {
    void vscode.window.showInformationMessage(`Run ${run.id} cancelled`);
  } else if (run.status !== 'succeeded') {
    void vscode.window.showErrorMessage(`Run ${run.id} ${run.status}: ${run.error}`, 'Show Logs').then((p) => p && d.log.show());
  }
}

async function ask(): Promise<{ pipeline: string; params: Record<string, string> } | undefined> {
  const s = settings();
  const found = await vscode.workspace.findFiles('**/pipeline.{ts,js}', '**/node_modules/**', 50);
  const items: (vscode.QuickPickItem & { file: string })[] = [
    { label: 'Default pipeline', description: s.pipeline || 'the iris example', file: s.pipeline },
    ...found.map((uri) => ({
      label: path.basename(path.dirname(uri.fsPath)),
      description: vscode.workspace.asRelativePath(uri),
      file: uri.fsPath,
    })),
  ];
  const picked =
    items.length === 1
      ? items[0]
      : await vscode.window.showQuickPick(items, { title: 'MLOps: Train — pipeline', placeHolder: 'Pick a pipeline' });
  if (!picked) return undefined;
  const text = await vscode.window.showInputBox({
    title: 'MLOps: Train — params',
    prompt: 'Optional params as key=value, separated by spaces (e.g. trainer=logistic_regression seed=7); Enter for the defaults',
    validateInput: (v) =>
      v
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .every((p) => /^[A-Za-z_][\w.-]*=.*/.test(p))
        ? null
        : 'use key=value pairs',
  });
  if (text === undefined) return undefined;
  const params = Object.fromEntries(
    text
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
  );
  return { pipeline: picked.file, params };
}
