import path from 'node:path';
import * as vscode from 'vscode';
import type { ModelTask } from '../../common/contract';
import { checkName } from '../../common/registry/names';
import type { Deps } from '../deps';
import { csvColumns, defaultModelName, featureList, importRequest } from '../import-inputs';
import { settings } from '../settings';
import { command } from './register';

/** A quick pick with typed values; undefined when dismissed. */
async function pick<T>(title: string, items: { label: string; description?: string; value: T }[]): Promise<T | undefined> {
  return (await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true }))?.value;
}

async function openFile(title: string, filters: Record<string, string[]>): Promise<string | undefined> {
  const folder = settings().projectDirectory ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const picked = await vscode.window.showOpenDialog({
    title,
    filters,
    canSelectMany: false,
    defaultUri: folder ? vscode.Uri.file(folder) : undefined,
  });
  return picked?.[0]?.fsPath;
}

/** Why a typed model name would be refused (the registry's own rule), or null. */
function nameProblem(value: string): string | null {
  try {
    checkName('model name', value);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * "MLOps: Import ONNX Model…": a model trained elsewhere into the registry. The server reads the
 * files, evaluates the model on the CSV and registers it (POST /api/models/import); nothing is
 * registered when it refuses, and its one-line reason is the command's error.
 */
export function registerImportCommand(d: Deps): vscode.Disposable {
  return command(d, 'mlops.importModel', async () => {
    const file = await openFile('ONNX model to import', { 'ONNX model': ['onnx'] });
    if (!file) return;
    const data = await openFile('CSV to evaluate it on (features and target)', { CSV: ['csv'] });
    if (!data) return;
    const columns = csvColumns(data);
    // The target is usually the last column: offered first.
    const target = await pick(
      `Target column of ${path.basename(data)}`,
      [...columns].reverse().map((c) => ({ label: c, value: c })),
    );
    if (!target) return;
    const name = await vscode.window.showInputBox({
      title: 'Registry name of the model',
      value: defaultModelName(file),
      validateInput: nameProblem,
      ignoreFocusOut: true,
    });
    if (!name) return;
    const task = await pick<ModelTask | 'auto'>('Task', [
      { label: 'auto', description: 'read from the model’s outputs', value: 'auto' },
      { label: 'classification', value: 'classification' },
      { label: 'regression', value: 'regression' },
    ]);
    if (!task) return;
    const typed = await vscode.window.showInputBox({
      title: 'Feature columns of a single [N, F] input (optional)',
      prompt: 'Empty: match the model’s inputs to CSV columns by name. Else the CSV columns its tensor takes, in order: a, b, c',
      validateInput: (text) => featureList(text, columns, target).problem,
      ignoreFocusOut: true,
    });
    if (typed === undefined) return;
    const { features } = featureList(typed, columns, target);
    const gate = await pick('Quality gate', [
      { label: 'No gate', description: 'register whatever the metrics are', value: false },
      { label: 'Apply the quality gate', description: 'refuse the model if its metrics are below the thresholds', value: true },
    ]);
    if (gate === undefined) return;
    await d.server.ensure();
    const version = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `MLOps: importing ${path.basename(file)} as ${name}…` },
      () => d.api.importModel(importRequest({ file, data, target, name, task, features, gate })),
    );
    await d.models.refresh();
    await d.modelsView.reveal({ kind: 'version', version }, { select: true, focus: false, expand: true }).then(undefined, () => undefined);
    void vscode.window.showInformationMessage(`Imported ${version.model} v${version.version} (${version.signature.task})`);
  });
}
