// `mlops db copy --from sqlite:<data dir> --to postgres://…`: moves a data dir's prediction log
// (predictions.sqlite: predictions, input field names, feedback labels) into the shared PostgreSQL
// log that PostgresLogStore writes. The SQLite file is read read-only in one snapshot, a page at a
// time; PostgreSQL gets everything in one transaction (schema migration included), so a failed copy
// leaves the target as it was. A target that already holds rows is refused: a second copy would
// hold every prediction twice.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { errors } from '../../common/errors';
import { COPY_ROWS, copyRow, copyText, insertFields, migrateLogSchema, onePool, pgUnreachable, transaction } from './postgres';
import { PREDICTIONS_DB_FILE, predictionLogError, redactUrl } from './protocol';
import type { LogRow } from './store';

export interface CopyLogOptions {
  /** The `replica` column of the copied rows; default `copied:<hostname>`. */
  replica?: string;
  /** Called after each page handed to PostgreSQL: rows (predictions, then labels) done out of the total. */
  progress?: (done: number, total: number) => void;
}

export interface CopiedLog {
  predictions: number;
  feedback: number;
  /** Input field names new to the target. */
  fields: number;
}

/** Rows per SELECT of the source (and per chunk of COPY text): one page in memory at a time. */
const PAGE_ROWS = 1000;

/** Schema versions of predictions.sqlite (MIGRATIONS) that added what the copy reads. */
const V_VALUES = 2;
const V_FEEDBACK = 3;

const COPY_FEEDBACK = 'COPY feedback (at, request_id, row_index, actual_label, actual_value, prediction_at) FROM STDIN';

/** A predictions row of the SQLite file: its id, then the columns the writer fills. */
type PredictionRow = [id: number, ...row: LogRow];
type FeedbackRow = [
  id: number,
  at: number,
  requestId: string,
  rowIndex: number,
  label: string | null,
  value: number | null,
  predictionAt: number,
];

/**
 * The data dir's log, read-only, in one read transaction (WAL: a snapshot that a live writer does not
 * disturb). Files of older schema versions are read too: the columns they lack are null, or 0 for shadow.
 */
class SqliteLogSource {
  private constructor(
    private readonly db: Database.Database,
    private readonly version: number,
  ) {}

  static open(file: string): SqliteLogSource {
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
      db.exec('BEGIN');
      const version = db.pragma('user_version', { simple: true }) as number;
      return new SqliteLogSource(db, version);
    } catch (err) {
      db?.close();
      throw predictionLogError(err, file);
    }
  }

  /** Rows to copy: predictions, labels. */
  counts(): { predictions: number; feedback: number } {
    if (this.version === 0) return { predictions: 0, feedback: 0 }; // never migrated: no tables
    const count = (table: string) => this.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    return { predictions: count('predictions'), feedback: this.version >= V_FEEDBACK ? count('feedback') : 0 };
  }

  /** In order of first appearance (the CSV export's column order). */
  fields(): string[] {
    return this.db.prepare('SELECT name FROM input_fields ORDER BY rowid').pluck().all() as string[];
  }

  /** In insertion order (id), so that rows of the same time keep their export order in PostgreSQL. */
  predictions(): Generator<PredictionRow[]> {
    const values = this.version >= V_VALUES ? 'prediction_values' : 'NULL';
    const shadow = this.version >= V_FEEDBACK ? 'shadow' : '0';
    return this.pages<PredictionRow>(
      `SELECT id, at, request_id, model, version, row_index, inputs, label, probabilities, latency_ms, ${values}, ${shadow} ` +
        'FROM predictions',
    );
  }

  /** In label order (id): the labelled export and the live quality window follow it. */
  feedback(): Generator<FeedbackRow[]> {
    if (this.version < V_FEEDBACK) return (function* () {})();
    return this.pages<FeedbackRow>('SELECT id, at, request_id, row_index, actual_label, actual_value, prediction_at FROM feedback');
  }

  /** Keyset pages on id (the first column of `select`). */
  private *pages<T extends [number, ...unknown[]]>(select: string): Generator<T[]> {
    const page = this.db.prepare(`${select} WHERE id > ? ORDER BY id LIMIT ${PAGE_ROWS}`).raw(true);
    let rows = page.all(-1) as T[];
    while (rows.length > 0) {
      yield rows;
      if (rows.length < PAGE_ROWS) return;
      rows = page.all(rows[rows.length - 1][0]) as T[];
    }
  }

  close(): void {
    this.db.close();
  }
}

const copyNumber = (n: number | null): string => (n === null ? '\\N' : String(n));

/**
 * Copies the prediction log of `fromDataDir` (its predictions.sqlite) into the PostgreSQL log at `toUrl`:
 * predictions (times, request ids, models and versions, inputs, labels, probabilities, values, latency,
 * shadow flag), input field names and feedback labels, which join their predictions by (request id, row)
 * as in the source. Nothing to copy (no file, an empty log): zeros, PostgreSQL untouched.
 * Throws PREDICTION_LOG_NOT_EMPTY (nothing written) when the target already holds predictions or labels,
 * PREDICTION_LOG_DOWN when PostgreSQL cannot be reached.
 */
export async function copyPredictionLog(fromDataDir: string, toUrl: string, opts: CopyLogOptions = {}): Promise<CopiedLog> {
  const file = path.join(fromDataDir, PREDICTIONS_DB_FILE);
  if (!fs.existsSync(file)) return { predictions: 0, feedback: 0, fields: 0 };
  const source = SqliteLogSource.open(file);
  try {
    const counts = source.counts();
    if (counts.predictions === 0 && counts.feedback === 0) return { predictions: 0, feedback: 0, fields: 0 };
    const pool = onePool(toUrl, 'mlops db copy');
    try {
      return await transaction(pool, (c) => copyInto(c, source, counts, redactUrl(toUrl), opts));
    } catch (err) {
      throw pgUnreachable(err) ? errors.predictionLogDown(redactUrl(toUrl), err) : err;
    } finally {
      await pool.end();
    }
  } finally {
    source.close();
  }
}

/** The copy, inside the target's transaction. */
async function copyInto(
  c: pg.PoolClient,
  source: SqliteLogSource,
  counts: { predictions: number; feedback: number },
  target: string,
  opts: CopyLogOptions,
): Promise<CopiedLog> {
  // Migrating inside the copy's transaction keeps it all or nothing, and its lock makes replicas
  // starting meanwhile wait; the table lock holds off writers of replicas already running (reads go
  // on), so that the emptiness checked below still holds at the commit.
  await migrateLogSchema(c);
  await c.query('LOCK TABLE predictions, feedback IN EXCLUSIVE MODE');
  const { rows } = await c.query<{ predictions: number; feedback: number }>(
    'SELECT (SELECT count(*) FROM predictions)::float8 AS predictions, (SELECT count(*) FROM feedback)::float8 AS feedback',
  );
  if (rows[0].predictions > 0 || rows[0].feedback > 0) throw errors.predictionLogNotEmpty(target, rows[0].predictions, rows[0].feedback);

  const fields = await insertFields(c, source.fields());
  const total = counts.predictions + counts.feedback;
  let done = 0;
  const report = (n: number) => {
    done += n;
    opts.progress?.(done, total);
  };
  const replica = copyText(opts.replica ?? `copied:${os.hostname()}`);
  let predictions = 0;
  await pipeline(
    Readable.from(
      (function* () {
        for (const page of source.predictions()) {
          yield page.map(([, at, ...rest]) => copyRow(replica, Math.trunc(at), ...rest)).join('');
          predictions += page.length;
          report(page.length);
        }
      })(),
    ),
    c.query(copyFrom(COPY_ROWS)),
  );
  let feedback = 0;
  await pipeline(
    Readable.from(
      (function* () {
        for (const page of source.feedback()) {
          yield (
            page
              // Times truncated as PostgresLogStore.storeFeedback does (BIGINT); SQLite keeps what it was given.
              .map((r) => `${Math.trunc(r[1])}\t${copyText(r[2])}\t${r[3]}\t${copyText(r[4])}\t${copyNumber(r[5])}\t${Math.trunc(r[6])}\n`)
              .join('')
          );
          feedback += page.length;
          report(page.length);
        }
      })(),
    ),
    c.query(copyFrom(COPY_FEEDBACK)),
  );
  return { predictions, feedback, fields };
}
