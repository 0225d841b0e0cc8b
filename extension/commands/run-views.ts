import * as vscode from 'vscode';
import { openArtifact } from '../artifacts/open-artifact';
import type { Deps } from '../deps';
import { RunGraphPanel } from '../views/run-graph-panel';
import type { RunNode } from '../views/runs-tree';
import { command } from './register';

/** Views of one run: its graph, its files, its folder. */
export function registerRunViewCommands(d: Deps): vscode.Disposable[] {
  return [
    command(d, 'mlops.showRunGraph', async (node?: RunNode) => {
      const runId = node && node.kind !== 'metric' ? node.run.id : await pickRun(d);
      if (runId) RunGraphPanel.show(d.context.extensionUri, d.api, d.stream, runId);
    }),
    command(d, 'mlops.openArtifact', async (file?: unknown) => {
      if (typeof file === 'string') await openArtifact(file);
    }),
    command(d, 'mlops.openRunFolder', async (node?: RunNode) => {
      if (node && node.kind !== 'metric') await revealFolder(node.run.runDir, `run ${node.run.id}`);
    }),
  ];
}

async function pickRun(d: Deps): Promise<string | undefined> {
  await d.runs.refresh();
  const items = d.runs.all().map((r) => ({ label: r.id, description: `${r.pipeline} · ${r.status}` }));
  return (await vscode.window.showQuickPick(items, { title: 'MLOps: Show Run Graph', placeHolder: 'Pick a run' }))?.label;
}

/**
 * Shows a folder in the Explorer. revealFileInOS opens the OS's file manager, which a devcontainer or
 * a browser does not have; a folder outside the workspace can only be shown once it is added to it.
 */
async function revealFolder(folder: string, name: string): Promise<void> {
  const uri = vscode.Uri.file(folder);
  if (vscode.workspace.getWorkspaceFolder(uri)) {
    await vscode.commands.executeCommand('revealInExplorer', uri);
    return;
  }
  const add = 'Add to Workspace';
  const pick = await vscode.window.showInformationMessage(`The ${name} folder ${folder} is outside the workspace.`, add);
  if (pick === add) vscode.workspace.updateWorkspaceFolders(vscode.workspace.workspaceFolders?.length ?? 0, 0, { uri, name });
}
