// The extension's entry point: UI only. It talks to the server over HTTP and its event stream and
// never loads a native module (better-sqlite3 and onnxruntime run in the server and the runner).
import * as vscode from 'vscode';
import { registerAlertCommands } from './commands/alerts';
import { registerImportCommand } from './commands/import-model';
import { registerModelCommands } from './commands/models';
import { registerNewPipelineCommand } from './commands/new-pipeline';
import { registerReinstallCommand } from './commands/reinstall';
import { registerRunCommands } from './commands/runs';
import { registerRunViewCommands } from './commands/run-views';
import { command } from './commands/register';
import { ExecutedNotebookSerializer, EXECUTED_NOTEBOOK } from './artifacts/notebook-serializer';
import { registerServingCommands } from './commands/serving';
import { train } from './commands/train';
import { isMlopsError } from '../common/errors';
import type { Deps } from './deps';
import { errorMessage } from './error-message';
import { ApiClient } from './server/api-client';
import { EventStream } from './server/event-stream';
import { ServerProcess } from './server/server-process';
import { apiToken, baseUrl, settings } from './settings';
import { MetricsPanel } from './views/metrics-panel';
import { ModelsTree } from './views/models-tree';
import { RunsTree } from './views/runs-tree';
import { StatusBar } from './views/status-bar';

let deps: Deps | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('MLOps Server', { log: true });
  const api = new ApiClient(() => baseUrl(), apiToken);
  const stream = new EventStream(api);
  const server = new ServerProcess(api, log, settings);
  const runs = new RunsTree(api);
  const models = new ModelsTree(api, () => settings().defaultAlias);
  const status = new StatusBar();
  const modelsView = vscode.window.createTreeView('mlops.models', { treeDataProvider: models });
  const d: Deps = { context, api, stream, server, runs, models, modelsView, log };
  deps = d;

  context.subscriptions.push(
    log,
    stream,
    server,
    status,
    runs,
    models,
    vscode.window.createTreeView('mlops.runs', { treeDataProvider: runs }),
    modelsView,
    vscode.window.registerWebviewPanelSerializer(MetricsPanel.viewType, {
      deserializeWebviewPanel: async (panel) => MetricsPanel.revive(panel, context.extensionUri, api, stream),
    }),
    command(d, 'mlops.train', () => train(d)),
    ...registerRunCommands(d),
    ...registerRunViewCommands(d),
    registerNewPipelineCommand(d),
    vscode.workspace.registerNotebookSerializer(EXECUTED_NOTEBOOK, new ExecutedNotebookSerializer(), { transientOutputs: false }),
    ...registerModelCommands(d),
    registerImportCommand(d),
    ...registerServingCommands(d),
    registerReinstallCommand(d),
    ...registerAlertCommands(d),
    server.onState((s) => status.setState(s)),
    stream.onConnected((connected) => {
      status.setConnected(connected);
      void runs.refresh();
      void models.refresh();
      if (connected)
        void api.status().then(
          (st) => setServing(st.serving),
          () => undefined,
        );
    }),
    stream.onEvent((e) => {
      if (e.type === 'stats') status.setStats(e.stats);
      else if (e.type === 'serving') setServing(e.serving);
      else if (e.type === 'run') runs.onRunEvent(e.event);
      else if (e.type === 'registry') void Promise.all([runs.refresh(), models.refresh()]);
    }),
  );

  function setServing(serving: Parameters<StatusBar['setServing']>[0]): void {
    status.setServing(serving);
    models.served = serving ? { model: serving.model, version: serving.version } : null;
    void models.refresh();
  }

  // Activation stays light: connecting and (maybe) starting the server happen after it.
  stream.start();
  setTimeout(() => void autoStart(d), 0);
}

/** Connects to the server, or starts it (mlops.server.autoStart); a problem is shown, never thrown. */
async function autoStart(d: Deps): Promise<void> {
  try {
    if (!settings().autoStart) return;
    await d.server.ensure();
    d.stream.kick();
  } catch (err) {
    d.log.warn(errorMessage(err, '(mlops.server settings)'));
    if (isMlopsError(err) && err.code === 'BAD_SETTING') void vscode.window.showErrorMessage(`MLOps: ${err.message}`);
  }
}

export async function deactivate(): Promise<void> {
  await deps?.server.stop();
}
