import type * as vscode from 'vscode';
import type { ApiClient } from './server/api-client';
import type { EventStream } from './server/event-stream';
import type { ServerProcess } from './server/server-process';
import type { ModelNode, ModelsTree } from './views/models-tree';
import type { RunsTree } from './views/runs-tree';

/** What every command needs, built once in main.ts. */
export interface Deps {
  context: vscode.ExtensionContext;
  api: ApiClient;
  stream: EventStream;
  server: ServerProcess;
  runs: RunsTree;
  models: ModelsTree;
  /** The registry's tree view, to reveal a version. */
  modelsView: vscode.TreeView<ModelNode>;
  log: vscode.LogOutputChannel;
}
