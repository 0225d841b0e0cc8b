import * as vscode from 'vscode';
import { errors } from '../../common/errors';
import { parseIpynb } from './ipynb';

/** The notebook type of our serializer (package.json "notebooks", priority "option": never the default for .ipynb). */
export const EXECUTED_NOTEBOOK = 'mlops.executedNotebook';

/**
 * Shows a run's executed notebook copy (cells and their text and image outputs) without the
 * Jupyter extension, e.g. in code-server. Read-only: a copy records what ran, so saving it is refused.
 */
export class ExecutedNotebookSerializer implements vscode.NotebookSerializer {
  deserializeNotebook(content: Uint8Array): vscode.NotebookData {
    const parsed = parseIpynb(content, 'the notebook');
    const cells = parsed.cells.map((c) => {
      const kind = c.kind === 'code' ? vscode.NotebookCellKind.Code : vscode.NotebookCellKind.Markup;
      const cell = new vscode.NotebookCellData(kind, c.source, c.kind === 'code' ? parsed.language : 'markdown');
      cell.outputs = c.outputs.map(
        (items) => new vscode.NotebookCellOutput(items.map((i) => new vscode.NotebookCellOutputItem(i.data, i.mime))),
      );
      if (c.executionCount !== null) cell.executionSummary = { executionOrder: c.executionCount };
      return cell;
    });
    return new vscode.NotebookData(cells);
  }

  serializeNotebook(): Uint8Array {
    throw errors.notebookCopyReadOnly();
  }
}

/** The notebook editor type for .ipynb: Jupyter's when it is installed, else ours. */
export function notebookType(): string {
  return vscode.extensions.getExtension('ms-toolsai.jupyter') ? 'jupyter-notebook' : EXECUTED_NOTEBOOK;
}
