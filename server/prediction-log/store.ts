// Where the prediction log's writer thread (worker.ts) keeps its rows and labels: the
// SQLite file of the data dir (SqliteLogStore, below) or PostgreSQL (PostgresLogStore,
// postgres.ts, when MLOPS_DATABASE_URL is postgres://…). The writer builds the rows
// and owns the queue, the retry and the retention policy; a store only speaks SQL. SQLite answers
// synchronously, PostgreSQL with promises: the writer awaits either, one operation at a time.
import type Database from 'better-sqlite3';
import type { LiveQuality } from '../../common/contract';
import { errors } from '../../common/errors';
import { openSqlite } from '../../common/sqlite';
import { FeedbackStore, type Stored } from './feedback';
import { MIGRATIONS, type FeedbackBatch, type FeedbackKeys, type FeedbackLookup } from './protocol';

type MaybePromise<T> = T | Promise<T>;

/**
 * One prediction-log row as the writer builds it (JSON text included): the predictions table's columns
 * after its id, in order. Written once here; RowSink.row, the COPY text (copyRow) and the SQLite-to-
 * PostgreSQL copy (copy.ts) all take this list.
 */
export type LogRow = [
  at: number,
  requestId: string,
  model: string,
  version: number,
  rowIndex: number,
  inputs: string,
  label: string | null,
  probabilities: string | null,
  latencyMs: number,
  values: string | null,
  shadow: number,
];

/** Receives the rows of one transaction from the writer, which builds them (their JSON text included). */
export interface RowSink {
  /** A feature list's names, before the first row that uses it (the CSV export's columns, in order of first appearance). */
  fields(names: string[]): void;
  row(...row: LogRow): void;
}

export interface LogStore {
  /** Names the database in messages (a file, or a URL without its password). */
  readonly name: string;
  /** Inserts the rows `fill` gives to the sink, in one transaction (all or none). */
  write(fill: (sink: RowSink) => void): MaybePromise<void>;
  /** Deletes up to `limit` rows older than `cutoff` (epoch ms), oldest first; returns rows deleted. */
  deleteBefore(cutoff: number, limit: number): MaybePromise<number>;
  /** Deletes the `limit` oldest rows; returns rows deleted. */
  deleteOldest(limit: number): MaybePromise<number>;
  count(): MaybePromise<number>;
  /** Checks that the database answers (after it was out of reach). */
  ping(): MaybePromise<void>;
  lookup(keys: FeedbackKeys): MaybePromise<FeedbackLookup>;
  storeFeedback(at: number, batch: FeedbackBatch): MaybePromise<Stored>;
  qualityOf(keys: FeedbackKeys): MaybePromise<LiveQuality[]>;
  qualityOfAll(): MaybePromise<LiveQuality[]>;
  /** Deletes the labels whose predictions retention deleted; returns how many. */
  pruneOrphans(): MaybePromise<number>;
  /**
   * Whether a failed write may succeed later with the same rows (busy, disk full, database down):
   * they are kept and retried. Any other error (a bug) drops them rather than stall the log.
   */
  keepsRows(err: unknown): boolean;
  /** Whether the error says the database cannot be reached (the writer backs off and reports it). */
  unreachable(err: unknown): boolean;
  /** Gives the final write of close() the longer lock wait (SQLite); nothing for PostgreSQL. */
  closing(): void;
  close(): MaybePromise<void>;
}

// bound per row: at, request_id, model, version, row_index, inputs, label, probabilities, latency_ms, prediction_values, shadow
const COLUMNS = 11;
/**
 * Rows per multi-row INSERT (352 bound parameters; 16 to 300 measured alike, 1 is ~20% slower);
 * the remainder goes through the one-row statement.
 */
const CHUNK_ROWS = 32;
/**
 * How long a write waits for another connection's write lock before it fails (the rows stay and are
 * retried on the next tick, and the failure is reported). The wait happens in this worker, so it does not
 * hold the server's event loop, but a flush() caller should still hear of a lock held by another process soon.
 */
const BUSY_TIMEOUT_MS = 250;
/** The final commit of close() waits as long as any other opener of these files (openSqlite). */
const CLOSE_BUSY_TIMEOUT_MS = 5000;

/** The data dir's predictions.sqlite, through the writer thread's own connection (its only writer). */
export class SqliteLogStore implements LogStore {
  private readonly db: Database.Database;
  private readonly insertMany: Database.Statement;
  private readonly insertOne: Database.Statement;
  private readonly insertField: Database.Statement;
  private readonly feedback: FeedbackStore;
  private readonly writeTx: (fill: (sink: RowSink) => void) => void;
  private readonly params: unknown[] = new Array(CHUNK_ROWS * COLUMNS);

  constructor(
    readonly name: string,
    qualityWindow: number,
  ) {
    const db = openSqlite(name, MIGRATIONS, errors.predictionLogBusy);
    try {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      const values = (k: number) => Array.from({ length: k }, () => `(${new Array(COLUMNS).fill('?').join(',')})`).join(',');
      const insert =
        'INSERT INTO predictions (at, request_id, model, version, row_index, inputs, label, probabilities, latency_ms, ' +
        'prediction_values, shadow) VALUES ';
      this.insertMany = db.prepare(insert + values(CHUNK_ROWS));
      this.insertOne = db.prepare(insert + values(1));
      this.insertField = db.prepare('INSERT OR IGNORE INTO input_fields (name) VALUES (?)');
      this.feedback = new FeedbackStore(db, qualityWindow);
      this.writeTx = db.transaction((fill: (sink: RowSink) => void) => this.insertRows(fill));
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
  }

  write(fill: (sink: RowSink) => void): void {
    this.writeTx(fill);
  }

  /** Runs inside the transaction: rows are bound CHUNK_ROWS at a time into one multi-row INSERT. */
  private insertRows(fill: (sink: RowSink) => void): void {
    const p = this.params;
    let j = 0; // rows bound in p
    fill({
      fields: (names) => {
        for (const name of names) this.insertField.run(name);
      },
      row: (at, requestId, model, version, rowIndex, inputs, label, probabilities, latencyMs, values, shadow) => {
        const b = j * COLUMNS;
        p[b] = at;
        p[b + 1] = requestId;
        p[b + 2] = model;
        p[b + 3] = version;
        p[b + 4] = rowIndex;
        p[b + 5] = inputs;
        p[b + 6] = label;
        p[b + 7] = probabilities;
        p[b + 8] = latencyMs;
        p[b + 9] = values;
        p[b + 10] = shadow;
        if (++j === CHUNK_ROWS) {
          this.insertMany.run(p);
          j = 0;
        }
      },
    });
    for (let r = 0; r < j; r++) this.insertOne.run(p.slice(r * COLUMNS, (r + 1) * COLUMNS));
  }

  deleteBefore(cutoff: number, limit: number): number {
    return this.db
      .prepare('DELETE FROM predictions WHERE id IN (SELECT id FROM predictions WHERE at < ? ORDER BY at LIMIT ?)')
      .run(cutoff, limit).changes;
  }

  deleteOldest(limit: number): number {
    return this.db.prepare('DELETE FROM predictions WHERE id IN (SELECT id FROM predictions ORDER BY at, id LIMIT ?)').run(limit).changes;
  }

  count(): number {
    return this.db.prepare('SELECT count(*) FROM predictions').pluck().get() as number;
  }

  ping(): void {}

  lookup(keys: FeedbackKeys): FeedbackLookup {
    return this.feedback.lookup(keys);
  }

  storeFeedback(at: number, batch: FeedbackBatch): Stored {
    return this.feedback.store(at, batch);
  }

  qualityOf(keys: FeedbackKeys): LiveQuality[] {
    return this.feedback.qualityOf(keys);
  }

  qualityOfAll(): LiveQuality[] {
    return this.feedback.qualityOfAll();
  }

  pruneOrphans(): number {
    return this.feedback.pruneOrphans();
  }

  keepsRows(err: unknown): boolean {
    return /^SQLITE_/.test(String((err as { code?: unknown } | null)?.code));
  }

  unreachable(): boolean {
    return false; // a local file: busy or full, never out of reach
  }

  closing(): void {
    this.db.pragma(`busy_timeout = ${CLOSE_BUSY_TIMEOUT_MS}`);
  }

  close(): void {
    this.db.close();
  }
}
