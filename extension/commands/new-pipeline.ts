import path from 'node:path';
import * as vscode from 'vscode';
import { errors } from '../../common/errors';
import type { Deps } from '../deps';
import { readCsvColumns } from '../scaffold/csv-header';
import { PIPELINE_NAME, scaffoldPipeline } from '../scaffold/scaffold';
import type { PipelineKind } from '../scaffold/templates';
import { settings } from '../settings';
import { command } from './register';
import { train } from './train';

const KINDS: (vscode.QuickPickItem & { pipeline: PipelineKind })[] = [
  { pipeline: 'typescript', label: 'TypeScript steps', detail: 'ETL, training, ONNX export, evaluation, gate, registration' },
  { pipeline: 'python', label: 'A Python command step', detail: 'train.py (numpy, onnx) trains a classifier after the TypeScript ETL' },
  { pipeline: 'notebook', label: 'A notebook step', detail: 'train.ipynb (numpy, pandas, onnx) trains a classifier in a Jupyter kernel' },
];

/**
 * "MLOps: New Pipeline…": a kind, a CSV, its target column and a name; writes pipelines/<name>/
 * (extension/scaffold), opens the module and trains it at once with the Train flow.
 */
export function registerNewPipelineCommand(d: Deps): vscode.Disposable {
  return command(d, 'mlops.newPipeline', async () => {
    const root = settings().projectDirectory;
    if (!root) throw errors.noProject();
    const title = 'MLOps: New Pipeline';
    const kind = await vscode.window.showQuickPick(KINDS, { title: `${title} — kind of steps` });
    if (!kind) return;
    const picked = await vscode.window.showOpenDialog({
      title: `${title} — data`,
      openLabel: 'Use This Data',
      canSelectMany: false,
      defaultUri: vscode.Uri.file(root),
      filters: { CSV: ['csv'] },
    });
    const data = picked?.[0]?.fsPath;
    if (!data) return;
    const csv = readCsvColumns(data);
    const target = await vscode.window.showQuickPick(
      csv.columns.map((c) => ({ label: c, description: csv.numeric.includes(c) ? 'numbers' : 'text' })),
      { title: `${title} — the column to predict`, placeHolder: path.basename(data) },
    );
    if (!target) return;
    const pipelinesDir = path.join(root, 'pipelines');
    const name = await vscode.window.showInputBox({
      title: `${title} — name`,
      prompt: `The folder pipelines/<name> and the registry name of its model`,
      value: suggestName(data),
      validateInput: (v) => (PIPELINE_NAME.test(v) ? null : 'lower-case letters, digits, - and _, starting with a letter'),
    });
    if (!name) return;
    const made = scaffoldPipeline({ kind: kind.pipeline, projectRoot: root, pipelinesDir, name, data, target: target.label });
    await vscode.window.showTextDocument(vscode.Uri.file(made.pipeline));
    if (made.dropped.length > 0)
      void vscode.window.showInformationMessage(`${name}: ${made.dropped.join(', ')} left out of the features (not numbers)`);
    await train(d, { pipeline: made.pipeline, params: {} });
  });
}

/** The data file's name as a pipeline name: "Iris Dataset.csv" → "iris-dataset". */
function suggestName(file: string): string {
  const base = path
    .basename(file, path.extname(file))
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z]+|-+$/g, '');
  return PIPELINE_NAME.test(base) ? base : 'my-pipeline';
}
