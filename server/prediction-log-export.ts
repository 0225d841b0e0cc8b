// Reads the prediction log back for `mlops logs export`: its own read-only connection, one snapshot,
// streamed with backpressure. No writer thread, no timer, no exit hook: nothing here writes.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'csv-stringify/sync';
import { PREDICTIONS_DB_FILE, predictionLogError } from './prediction-log-protocol';

export type ExportFormat = 'csv' | 'jsonl';

const CSV_FIXED = ['at', 'request_id', 'model', 'version', 'label', 'probabilities', 'latency_ms', 'values'];
/** Rows stringified and written together: large enough to amortise the calls, small enough for flat memory. */
const CHUNK_ROWS = 500;
/**
 * CSV as RFC 4180 with CRLF; a cell starting with = + - @, a tab or a carriage return (and their
 * full-width forms) is prefixed with ' so that a spreadsheet shows it as text instead of running it
 * (OWASP CSV injection). Numbers are written as numbers: a negative input is not escaped. A lone
 * line break is quoted too (csv-stringify leaves \n bare under CRLF records; other readers split on it).
 */
const CSV_OPTIONS = {
  escape_formulas: true,
  record_delimiter: 'windows',
  quoted_match: /[\r\n]/,
  // csv-stringify writes true as 1 and false as an empty cell: a boolean input is written as the word.
  cast: { boolean: (v: boolean) => String(v) },
} as const;

type RawRow = [number, string, string, number, string, string | null, string | null, number, string | null];
const SELECT =
  'SELECT at, request_id, model, version, inputs, label, probabilities, latency_ms, prediction_values FROM predictions ' +
  'WHERE at >= ? ORDER BY at, id';

/**
 * Streams the committed log of `dataDir` (or the rows since `since`) to `out` as CSV or JSONL. Does
 * not end `out`. Returns rows written. CSV columns: at (ISO), request_id, model, version, every input
 * field stored so far (a field named like a fixed column is headed `input:<name>`; empty where a row
 * has no such field), label, probabilities (JSON), latency_ms, values (regression: JSON, one per target).
 * JSONL lines are PredictionLogEntry.
 */
export async function exportPredictionLog(
  dataDir: string,
  format: ExportFormat,
  out: NodeJS.WritableStream,
  opts: { since?: number } = {},
): Promise<number> {
  const file = path.join(dataDir, PREDICTIONS_DB_FILE);
  let failure: unknown = null;
  const onError = (err: unknown) => (failure ??= err);
  out.on('error', onError);
  // Never written yet (or logging is off): an empty export, with its header.
  if (!fs.existsSync(file)) {
    try {
      if (format === 'csv') await writeChunk(out, stringify([CSV_FIXED], CSV_OPTIONS), () => failure);
      return 0;
    } finally {
      out.off('error', onError);
    }
  }
  let reader: Database.Database | undefined;
  let count = 0;
  try {
    reader = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
    reader.exec('BEGIN'); // one snapshot for the header and the rows
    const fields = reader.prepare('SELECT name FROM input_fields ORDER BY rowid').pluck().all() as string[];
    const toRecord = format === 'csv' ? csvRecord(fields) : null;
    let chunk: unknown[][] = [];
    let text = '';
    if (toRecord) {
      const taken = new Set(CSV_FIXED);
      chunk.push([...CSV_FIXED.slice(0, 4), ...fields.map((f) => (taken.has(f) ? `input:${f}` : f)), ...CSV_FIXED.slice(4)]);
    }
    const rows = reader
      .prepare(SELECT)
      .raw(true)
      .iterate(opts.since ?? Number.MIN_SAFE_INTEGER) as IterableIterator<RawRow>;
    for (const r of rows) {
      if (toRecord) chunk.push(toRecord(r));
      else text += jsonLine(r);
      if (++count % CHUNK_ROWS === 0) {
        await writeChunk(out, toRecord ? stringify(chunk, CSV_OPTIONS) : text, () => failure);
        chunk = [];
        text = '';
      }
    }
    if (chunk.length > 0 || text) await writeChunk(out, toRecord ? stringify(chunk, CSV_OPTIONS) : text, () => failure);
    if (failure) throw failure;
    return count;
  } catch (err) {
    throw predictionLogError(err, file);
  } finally {
    out.off('error', onError);
    reader?.close(); // ends the read transaction
  }
}

/** The columns of a labelled export: the model's features and its target, as its training data names them. */
export interface LabelledColumns {
  model: string;
  features: string[];
  target: string;
}

const LABELLED =
  'SELECT p.inputs, f.actual_label, f.actual_value FROM feedback f ' +
  'CROSS JOIN predictions p ON p.request_id = f.request_id AND p.row_index = f.row_index ' +
  'WHERE p.model = ? AND p.shadow = 0 GROUP BY f.id ORDER BY f.id';

/**
 * Streams the labelled predictions of one model as a training CSV: one row per label (the answer
 * sent, not a challenger's shadow prediction), the feature columns in `columns.features` order and
 * the label in the target column, escaped like the export. A feature not stored (redacted, or
 * absent) is an empty cell. Does not end `out`. Returns rows written.
 */
export async function exportLabelled(dataDir: string, columns: LabelledColumns, out: NodeJS.WritableStream): Promise<number> {
  const file = path.join(dataDir, PREDICTIONS_DB_FILE);
  let failure: unknown = null;
  const onError = (err: unknown) => (failure ??= err);
  out.on('error', onError);
  let reader: Database.Database | undefined;
  let count = 0;
  try {
    let chunk: unknown[][] = [[...columns.features, columns.target]];
    if (fs.existsSync(file)) {
      reader = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
      // A log of an older schema has no labels yet (the server migrates it when it opens it).
      const hasFeedback = reader.prepare("SELECT 1 FROM sqlite_master WHERE name = 'feedback'").get() !== undefined;
      const rows = hasFeedback ? (reader.prepare(LABELLED).raw(true).iterate(columns.model) as IterableIterator<LabelledRow>) : [];
      for (const [inputs, label, value] of rows) {
        const parsed = JSON.parse(inputs) as Record<string, number | string | boolean | null>;
        chunk.push([...columns.features.map((f) => parsed[f] ?? null), label ?? value]);
        if (++count % CHUNK_ROWS === 0) {
          await writeChunk(out, stringify(chunk, CSV_OPTIONS), () => failure);
          chunk = [];
        }
      }
    }
    if (chunk.length > 0) await writeChunk(out, stringify(chunk, CSV_OPTIONS), () => failure);
    if (failure) throw failure;
    return count;
  } catch (err) {
    throw predictionLogError(err, file);
  } finally {
    out.off('error', onError);
    reader?.close();
  }
}

type LabelledRow = [string, string | null, number | null];

/** Models with labelled predictions in the log of `dataDir`, by name. */
export function labelledModels(dataDir: string): string[] {
  const file = path.join(dataDir, PREDICTIONS_DB_FILE);
  if (!fs.existsSync(file)) return [];
  const reader = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    if (reader.prepare("SELECT 1 FROM sqlite_master WHERE name = 'feedback'").get() === undefined) return [];
    const sql =
      'SELECT DISTINCT p.model FROM feedback f CROSS JOIN predictions p ' +
      'ON p.request_id = f.request_id AND p.row_index = f.row_index ORDER BY p.model';
    return reader.prepare(sql).pluck().all() as string[];
  } catch (err) {
    throw predictionLogError(err, file);
  } finally {
    reader.close();
  }
}

/** A stored row as CSV cells, its inputs spread over the export's input columns. */
function csvRecord(fields: string[]): (r: RawRow) => unknown[] {
  const column = new Map(fields.map((name, i) => [name, i]));
  return (r) => {
    const cells: (number | string | boolean | null)[] = new Array(fields.length).fill(null);
    const inputs = JSON.parse(r[4]) as Record<string, number | string | boolean | null>;
    for (const name in inputs) {
      const i = column.get(name);
      if (i !== undefined) cells[i] = inputs[name];
    }
    return [new Date(r[0]).toISOString(), r[1], r[2], r[3], ...cells, r[5], r[6], r[7], r[8]];
  };
}

/** The stored JSON texts go out as they are: no parse and stringify per row. */
function jsonLine(r: RawRow): string {
  return (
    `{"at":${r[0]},"requestId":${JSON.stringify(r[1])},"model":${JSON.stringify(r[2])},"version":${r[3]},` +
    `"inputs":${r[4]},"label":${JSON.stringify(r[5])},"probabilities":${r[6] ?? 'null'},"values":${r[8] ?? 'null'},` +
    `"latencyMs":${r[7]}}\n`
  );
}

/** Writes one chunk and waits for 'drain' when the stream asks for it; rejects on error or close. */
function writeChunk(out: NodeJS.WritableStream, chunk: string, failed: () => unknown): Promise<void> {
  const f = failed();
  if (f) return Promise.reject(f instanceof Error ? f : new Error(String(f)));
  const closed = () => new Error('prediction log export: the output stream closed before the export finished');
  // A destroyed stream neither emits 'drain' nor (again) 'close': check before writing and waiting.
  if ((out as { destroyed?: boolean }).destroyed) return Promise.reject(closed());
  if (out.write(chunk)) return Promise.resolve();
  if ((out as { destroyed?: boolean }).destroyed) return Promise.reject(closed());
  return new Promise<void>((resolve, reject) => {
    const done = (err?: unknown) => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onError = (err: unknown) => done(err);
    const onClose = () => done(closed());
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}
