// Reads an executed .ipynb (nbformat 4) into cells and their outputs, for the read-only notebook
// serializer (notebook-serializer.ts) that shows a run's notebook copy where no Jupyter extension
// is installed (code-server). Pure: unit-tested in Node.
import { errors } from '../../common/errors';

export interface OutputItem {
  mime: string;
  data: Uint8Array;
}

export interface NotebookCell {
  kind: 'code' | 'markdown';
  source: string;
  /** Each output is one or more representations of the same thing (an image and its text/plain). */
  outputs: OutputItem[][];
  executionCount: number | null;
}

export interface ParsedNotebook {
  language: string;
  cells: NotebookCell[];
}

type Json = Record<string, unknown>;
const utf8 = new TextEncoder();
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** nbformat keeps multi-line text as a string or a list of lines. */
const joined = (v: unknown): string => (Array.isArray(v) ? v.map(String).join('') : typeof v === 'string' ? v : '');
/** Mimes kept, in VS Code's order of preference; images arrive base64-encoded, text as (lists of) lines. */
const MIMES = ['image/svg+xml', 'image/png', 'image/jpeg', 'text/markdown', 'text/plain'];

function dataItems(data: Json): OutputItem[] {
  return MIMES.filter((mime) => data[mime] !== undefined).map((mime) => ({
    mime,
    data: mime === 'image/png' || mime === 'image/jpeg' ? Buffer.from(joined(data[mime]), 'base64') : utf8.encode(joined(data[mime])),
  }));
}

function outputItems(output: Json): OutputItem[] {
  switch (output.output_type) {
    case 'stream': {
      const mime = output.name === 'stderr' ? 'application/vnd.code.notebook.stderr' : 'application/vnd.code.notebook.stdout';
      return [{ mime, data: utf8.encode(joined(output.text)) }];
    }
    case 'display_data':
    case 'execute_result':
      return isObject(output.data) ? dataItems(output.data) : [];
    case 'error': {
      // Tracebacks carry ANSI colours: the error renderer shows the stack as text.
      const stack = Array.isArray(output.traceback) ? output.traceback.map(String).join('\n') : '';
      const error = { name: String(output.ename ?? 'Error'), message: String(output.evalue ?? ''), stack };
      return [{ mime: 'application/vnd.code.notebook.error', data: utf8.encode(JSON.stringify(error)) }];
    }
    default:
      return [];
  }
}

export function parseIpynb(bytes: Uint8Array, file: string): ParsedNotebook {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw errors.notebookCopy(file, `not a notebook (invalid JSON: ${(err as Error).message})`);
  }
  if (!isObject(doc) || !Array.isArray(doc.cells)) throw errors.notebookCopy(file, 'not a notebook (no "cells" list)');
  const metadata = isObject(doc.metadata) ? doc.metadata : {};
  const kernel = isObject(metadata.kernelspec) ? metadata.kernelspec : {};
  const info = isObject(metadata.language_info) ? metadata.language_info : {};
  const language = String(info.name ?? kernel.language ?? 'python');
  const cells = doc.cells.filter(isObject).map((cell): NotebookCell => ({
    kind: cell.cell_type === 'code' ? 'code' : 'markdown',
    source: joined(cell.source),
    outputs: (Array.isArray(cell.outputs) ? cell.outputs.filter(isObject) : []).map(outputItems).filter((o) => o.length > 0),
    executionCount: typeof cell.execution_count === 'number' ? cell.execution_count : null,
  }));
  return { language, cells };
}
