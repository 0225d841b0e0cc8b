import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { ImportModelRequest, ModelTask } from '../common/contract';
import { errors } from '../common/errors';

// What "Import ONNX Model…" asks for, as plain functions: the CSV's columns (for the target pick),
// a default registry name, and the request the answers make.

/** A header is read from the file's first MiB at most: enough for thousands of columns. */
const HEADER_BYTES = 1 << 20;

/** The column names of a CSV's header row, read without loading the whole file. */
export function csvColumns(file: string): string[] {
  let text: string;
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buffer = Buffer.alloc(HEADER_BYTES);
    text = buffer.toString('utf8', 0, fs.readSync(fd, buffer, 0, HEADER_BYTES, 0));
  } catch (err) {
    throw errors.dataFile(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  let rows: string[][];
  try {
    rows = parse(text, { to_line: 1, trim: true, bom: true, relax_column_count: true }) as string[][];
  } catch (err) {
    throw errors.csv(file, 1, (err as Error).message.replace(/^Invalid [^:]*: /, ''));
  }
  const columns = (rows[0] ?? []).filter((c) => c !== '');
  if (columns.length < 2) {
    throw errors.schema(file, `expected a header row with feature columns and a target, got ${columns.length} column(s)`);
  }
  return columns;
}

/** The registry name offered for a model file: its base name, made a valid name (common/registry/names.ts). */
export function defaultModelName(file: string): string {
  const base = path
    .basename(file, path.extname(file))
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64);
  return base || 'imported';
}

/**
 * The feature columns typed for a single [N, F] input ("a, b, c"): empty means match the model's
 * inputs to the CSV's columns by name. A problem is a message for the input box, else null.
 */
export function featureList(text: string, columns: string[], target: string): { features: string[] | undefined; problem: string | null } {
  const features = text
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (features.length === 0) return { features: undefined, problem: null };
  const unknown = features.filter((c) => !columns.includes(c));
  const twice = features.filter((c, i) => features.indexOf(c) !== i);
  const problem =
    unknown.length > 0
      ? `not a column of the CSV: ${unknown.join(', ')}`
      : twice.length > 0
        ? `listed twice: ${[...new Set(twice)].join(', ')}`
        : features.includes(target)
          ? `${target} is the target, not a feature`
          : null;
  return { features, problem };
}

export interface ImportAnswers {
  file: string;
  data: string;
  target: string;
  name: string;
  /** 'auto' lets the server read the task from the model's outputs. */
  task: ModelTask | 'auto';
  /** CSV columns in the order of a single [N, F] input; undefined: match inputs to columns by name. */
  features?: string[];
  gate: boolean;
}

/** The POST /api/models/import body for the answers; the lineage records the extension as the importer. */
export function importRequest(a: ImportAnswers): ImportModelRequest {
  return {
    file: a.file,
    name: a.name,
    data: a.data,
    target: a.target,
    ...(a.task === 'auto' ? {} : { task: a.task }),
    ...(a.features ? { features: a.features } : {}),
    gate: a.gate,
    by: 'extension',
  };
}
