// Reads the prediction log back for `mlops logs export`: its own read-only connection (to the data
// dir's SQLite file, or to PostgreSQL with MLOPS_DATABASE_URL), one snapshot, streamed with
// backpressure. No writer thread, no timer, no exit hook: nothing here writes.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'csv-stringify/sync';
import { errors } from '../../common/errors';
import { PostgresLogReader, pgUnreachable, type LabelledRow, type RawRow } from './postgres';
import { isPostgresUrl, PREDICTIONS_DB_FILE, predictionLogError, redactUrl } from './protocol';

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

const SELECT =
  'SELECT at, request_id, model, version, inputs, label, probabilities, latency_ms, prediction_values FROM predictions ' +
  'WHERE at >= ? ORDER BY at, id';
const LABELLED =
  'SELECT p.inputs, f.actual_label, f.actual_value FROM feedback f ' +
  'CROSS JOIN predictions p ON p.request_id = f.request_id AND p.row_index = f.row_index ' +
  'WHERE p.model = ? AND p.shadow = 0 GROUP BY f.id ORDER BY f.id';
const LABELLED_MODELS =
  'SELECT DISTINCT p.model FROM feedback f CROSS JOIN predictions p ' +
  'ON p.request_id = f.request_id AND p.row_index = f.row_index ORDER BY p.model';

/** Where the export reads: the data dir's SQLite file or PostgreSQL, each in one read snapshot. */
interface LogSource {
  /** Every input field name stored so far, in order of first appearance. */
  fields(): Promise<string[]>;
  /** The rows at or after `since`, by time then insertion, in chunks. */
  rows(since: number): AsyncIterable<RawRow[]>;
  /** The labelled answers of `model`, one per label, in label order, in chunks. */
  labelled(model: string): AsyncIterable<LabelledRow[]>;
  labelledModels(): Promise<string[]>;
  close(): Promise<void>;
}

/** The export's choice of backend: MLOPS_DATABASE_URL=postgres://… reads PostgreSQL, else the data dir's file. */
export interface ExportSource {
  /** Default: MLOPS_DATABASE_URL. */
  databaseUrl?: string;
}

/** Where the log of `dataDir` is: PostgreSQL's URL (without its password in `name`) or the data dir's file. */
function locate(dataDir: string, opts: ExportSource): { url: string | null; name: string } {
  const url = opts.databaseUrl ?? process.env.MLOPS_DATABASE_URL;
  if (isPostgresUrl(url)) return { url, name: redactUrl(url) };
  return { url: null, name: path.join(dataDir, PREDICTIONS_DB_FILE) };
}

/** The log, or null when it was never written (no file, no tables). */
async function openSource(where: { url: string | null; name: string }): Promise<LogSource | null> {
  if (where.url) return PostgresLogReader.open(where.url);
  if (!fs.existsSync(where.name)) return null;
  return new SqliteSource(new Database(where.name, { readonly: true, fileMustExist: true, timeout: 5000 }));
}

/** Yields a synchronous iterator's items CHUNK_ROWS at a time. */
function* chunks<T>(items: Iterable<T>): Generator<T[]> {
  let chunk: T[] = [];
  for (const item of items) {
    chunk.push(item);
    if (chunk.length === CHUNK_ROWS) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

class SqliteSource implements LogSource {
  constructor(private readonly reader: Database.Database) {
    reader.exec('BEGIN'); // one snapshot for the header and the rows
  }

  fields(): Promise<string[]> {
    return Promise.resolve(this.reader.prepare('SELECT name FROM input_fields ORDER BY rowid').pluck().all() as string[]);
  }

  async *rows(since: number): AsyncIterable<RawRow[]> {
    yield* chunks(this.reader.prepare(SELECT).raw(true).iterate(since) as IterableIterator<RawRow>);
  }

  async *labelled(model: string): AsyncIterable<LabelledRow[]> {
    // A log of an older schema has no labels yet (the server migrates it when it opens it).
    if (!this.hasFeedback()) return;
    yield* chunks(this.reader.prepare(LABELLED).raw(true).iterate(model) as IterableIterator<LabelledRow>);
  }

  labelledModels(): Promise<string[]> {
    return Promise.resolve(this.hasFeedback() ? (this.reader.prepare(LABELLED_MODELS).pluck().all() as string[]) : []);
  }

  private hasFeedback(): boolean {
    return this.reader.prepare("SELECT 1 FROM sqlite_master WHERE name = 'feedback'").get() !== undefined;
  }

  close(): Promise<void> {
    this.reader.close(); // ends the read transaction
    return Promise.resolve();
  }
}

/**
 * Streams the committed log of `dataDir` (or the rows since `since`) to `out` as CSV or JSONL. Does
 * not end `out`. Returns rows written. CSV columns: at (ISO), request_id, model, version, every input
 * field stored so far (a field named like a fixed column is headed `input:<name>`; empty where a row
 * has no such field), label, probabilities (JSON), latency_ms, values (regression: JSON, one per target).
 * JSONL lines are PredictionLogEntry. With MLOPS_DATABASE_URL=postgres://… (or opts.databaseUrl) the
 * log is read from PostgreSQL: every replica's rows, in the same form.
 */
export async function exportPredictionLog(
  dataDir: string,
  format: ExportFormat,
  out: NodeJS.WritableStream,
  opts: { since?: number } & ExportSource = {},
): Promise<number> {
  return readInto(dataDir, opts, out, async (source, write) => {
    // Never written yet (or logging is off): an empty export, with its header.
    if (!source) {
      if (format === 'csv') await write(stringify([CSV_FIXED], CSV_OPTIONS));
      return 0;
    }
    const fields = await source.fields();
    const toRecord = format === 'csv' ? csvRecord(fields) : null;
    if (toRecord) {
      const taken = new Set(CSV_FIXED);
      const header = [...CSV_FIXED.slice(0, 4), ...fields.map((f) => (taken.has(f) ? `input:${f}` : f)), ...CSV_FIXED.slice(4)];
      await write(stringify([header], CSV_OPTIONS));
    }
    let count = 0;
    for await (const rows of source.rows(opts.since ?? Number.MIN_SAFE_INTEGER)) {
      await write(toRecord ? stringify(rows.map(toRecord), CSV_OPTIONS) : rows.map(jsonLine).join(''));
      count += rows.length;
    }
    return count;
  });
}

/**
 * Runs `body` with the log's source (null when there is no log yet) and a writer of chunks to `out`
 * that honours backpressure; fails if `out` failed. Returns its rows.
 */
async function readInto(
  dataDir: string,
  opts: ExportSource,
  out: NodeJS.WritableStream,
  body: (source: LogSource | null, write: (chunk: string) => Promise<void>) => Promise<number>,
): Promise<number> {
  let failure: unknown = null;
  const onError = (err: unknown) => (failure ??= err);
  out.on('error', onError);
  const where = locate(dataDir, opts);
  let source: LogSource | null = null;
  try {
    source = await openSource(where);
    const count = await body(source, (chunk) => writeChunk(out, chunk, () => failure));
    if (failure) throw failure;
    return count;
  } catch (err) {
    throw readError(err, where.name);
  } finally {
    out.off('error', onError);
    await source?.close();
  }
}

/** SQLite's busy error names the file; a PostgreSQL out of reach is named without its password. */
function readError(err: unknown, name: string): unknown {
  if (pgUnreachable(err)) return errors.predictionLogDown(name, err);
  return predictionLogError(err, name);
}

/** The columns of a labelled export: the model's features and its target, as its training data names them. */
export interface LabelledColumns {
  model: string;
  features: string[];
  target: string;
}

/**
 * Streams the labelled predictions of one model as a training CSV: one row per label (the answer
 * sent, not a challenger's shadow prediction), the feature columns in `columns.features` order and
 * the label in the target column, escaped like the export. A feature not stored (redacted, or
 * absent) is an empty cell. Does not end `out`. Returns rows written.
 */
export async function exportLabelled(
  dataDir: string,
  columns: LabelledColumns,
  out: NodeJS.WritableStream,
  opts: ExportSource = {},
): Promise<number> {
  return readInto(dataDir, opts, out, async (source, write) => {
    await write(stringify([[...columns.features, columns.target]], CSV_OPTIONS));
    if (!source) return 0;
    let count = 0;
    for await (const rows of source.labelled(columns.model)) {
      const records = rows.map(([inputs, label, value]) => {
        const parsed = JSON.parse(inputs) as Record<string, number | string | boolean | null>;
        return [...columns.features.map((f) => parsed[f] ?? null), label ?? value];
      });
      await write(stringify(records, CSV_OPTIONS));
      count += rows.length;
    }
    return count;
  });
}

/** Models with labelled predictions in the log of `dataDir` (or PostgreSQL), by name. */
export async function labelledModels(dataDir: string, opts: ExportSource = {}): Promise<string[]> {
  const where = locate(dataDir, opts);
  let source: LogSource | null = null;
  try {
    source = await openSource(where);
    return source ? await source.labelledModels() : [];
  } catch (err) {
    throw readError(err, where.name);
  } finally {
    await source?.close();
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
