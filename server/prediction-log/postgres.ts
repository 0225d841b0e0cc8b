// The prediction log and its labels in PostgreSQL (MLOPS_DATABASE_URL=postgres://…): the writer
// thread's store (PostgresLogStore) and the export's reader (PostgresLogReader). Several replicas
// write into the same tables, each row naming its replica; the tables sit beside the registry's in the
// same database under names of their own (predictions, prediction_input_fields, feedback,
// prediction_log_schema). Each hand-over is one COPY FROM STDIN in one transaction. The schema is the
// SQLite one's, typed for PostgreSQL: inputs, probabilities and values stay JSON text, written once by
// the writer, so that both backends export the same bytes.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { LiveQuality } from '../../common/contract';
import { createPool, pgErrorCode as codeOf, pgUnreachable, transaction } from '../../common/postgres';
import { classifyFeedback, feedbackKey, windowQuality, type Stored, type WindowRow } from './feedback';
import { emptyLookup, redactUrl, type FeedbackBatch, type FeedbackKeys, type FeedbackLookup } from './protocol';
import type { LogRow, LogStore, RowSink } from './store';

/** Two-key advisory locks under a namespace of their own ('plog'): the registry's migration lock is another. */
const LOCK_NAMESPACE = 0x706c6f67;
const LOCK_MIGRATE = 0;
/** Feedback stores take it so that two replicas never label one key differently at once. */
const LOCK_FEEDBACK = 1;

/** Each entry moves the schema one version up; prediction_log_schema records how far a database is. */
export const PG_MIGRATIONS: string[] = [
  `
  CREATE TABLE predictions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    replica TEXT NOT NULL,
    request_id TEXT NOT NULL,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    row_index INTEGER NOT NULL,
    inputs TEXT NOT NULL,
    label TEXT,
    probabilities TEXT,
    latency_ms DOUBLE PRECISION NOT NULL,
    prediction_values TEXT,
    shadow SMALLINT NOT NULL DEFAULT 0
  );
  CREATE INDEX predictions_at ON predictions (at, id);
  CREATE INDEX predictions_request ON predictions (request_id, row_index);
  -- Every input field name ever stored, in order of first appearance: the CSV export's columns.
  CREATE TABLE prediction_input_fields (
    position BIGINT GENERATED ALWAYS AS IDENTITY,
    name TEXT PRIMARY KEY
  );
  -- One label per (request id, row); prediction_at lets retention drop labels with their predictions.
  CREATE TABLE feedback (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    request_id TEXT NOT NULL,
    row_index INTEGER NOT NULL,
    actual_label TEXT,
    actual_value DOUBLE PRECISION,
    prediction_at BIGINT NOT NULL,
    UNIQUE (request_id, row_index)
  );
  CREATE INDEX feedback_prediction_at ON feedback (prediction_at);
  `,
];

/** SQLSTATE classes that the same rows would hit again: bad data (22), constraints (23), bad SQL (42). */
const BUG_SQLSTATE = /^(22|23|42)/;

// Where the log's modules (copy, export) have always found it.
export { pgUnreachable };

/** A pool of one connection: the writer keeps one operation in flight, in order. */
export const onePool = (url: string, application: string): pg.Pool => createPool(pg.Pool, url, { max: 1, application });

// Where the log's modules (copy) have always found it.
export { transaction };

/**
 * Creates or updates the schema inside the caller's transaction, once across replicas starting
 * together: the advisory lock serialises them (and is held until that transaction ends).
 */
export async function migrateLogSchema(c: pg.ClientBase): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, LOCK_MIGRATE]);
  await c.query('CREATE TABLE IF NOT EXISTS prediction_log_schema (version INTEGER NOT NULL)');
  const found = await c.query<{ version: number }>('SELECT version FROM prediction_log_schema');
  let version = found.rows[0]?.version ?? 0;
  if (found.rows.length === 0) await c.query('INSERT INTO prediction_log_schema (version) VALUES (0)');
  for (; version < PG_MIGRATIONS.length; version++) await c.query(PG_MIGRATIONS[version]);
  await c.query('UPDATE prediction_log_schema SET version = $1', [version]);
}

const migrate = (pool: pg.Pool): Promise<void> => transaction(pool, migrateLogSchema);

/** Adds input field names not stored yet, after those that are (the CSV export's column order); returns how many were new. */
export async function insertFields(c: pg.ClientBase, names: string[]): Promise<number> {
  const sql = 'INSERT INTO prediction_input_fields (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING';
  return (await c.query(sql, [names])).rowCount ?? 0;
}

export const COPY_ROWS =
  'COPY predictions (at, replica, request_id, model, version, row_index, inputs, label, probabilities, latency_ms, ' +
  'prediction_values, shadow) FROM STDIN';
/** COPY text chunks of about this many characters: a stream of them rather than one string per hand-over. */
const COPY_CHUNK = 1 << 16;

/** A value in COPY's text format: \N for null; backslash, tab and line breaks escaped. */
export function copyText(s: string | null): string {
  if (s === null) return '\\N';
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]) : s;
}
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One line of COPY_ROWS's text (RowSink.row's arguments after `replica`, which is already copyText'ed: it repeats on every row). */
export function copyRow(
  replica: string,
  ...[at, requestId, model, version, rowIndex, inputs, label, probabilities, latencyMs, values, shadow]: LogRow
): string {
  return (
    `${at}\t${replica}\t${copyText(requestId)}\t${copyText(model)}\t${version}\t${rowIndex}\t${copyText(inputs)}\t` +
    `${copyText(label)}\t${copyText(probabilities)}\t${latencyMs}\t${copyText(values)}\t${shadow}\n`
  );
}

/** (request id, row) keys as a relation k(request_id, row_index, i), i from 1 in key order. */
const KEYS = 'unnest($1::text[], $2::integer[]) WITH ORDINALITY AS k(request_id, row_index, i)';

const LOOKUP =
  'SELECT m.model, m.version, m.at, m.label, CASE WHEN m.model IS NULL THEN ' +
  '(SELECT count(*)::integer FROM predictions c WHERE c.request_id = k.request_id AND c.shadow = 0) ELSE 0 END AS request_rows ' +
  `FROM ${KEYS} LEFT JOIN LATERAL (SELECT p.model, p.version, p.at::float8 AS at, p.label FROM predictions p ` +
  // The answer sent first (shadow 0), then the oldest: a reused request id labels its first answer.
  'WHERE p.request_id = k.request_id AND p.row_index = k.row_index ORDER BY p.shadow, p.id LIMIT 1) m ON true ORDER BY k.i';

const JOIN = 'feedback f JOIN predictions p ON p.request_id = f.request_id AND p.row_index = f.row_index';

export class PostgresLogStore implements LogStore {
  readonly name: string;
  private readonly pool: pg.Pool;
  /** Set once the schema is known to be there (the first operation migrates; a failure tries again next time). */
  private ready: Promise<void> | null = null;

  constructor(
    url: string,
    private readonly replica: string,
    private readonly windowSize: number,
  ) {
    this.name = redactUrl(url);
    this.pool = onePool(url, 'mlops prediction log');
  }

  private schema(): Promise<void> {
    this.ready ??= migrate(this.pool).catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    await this.schema();
    return this.pool.query<R>(sql, params);
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.schema();
    return transaction(this.pool, fn);
  }

  /** One COPY FROM STDIN per transaction (with the new field names first), streamed in chunks. */
  async write(fill: (sink: RowSink) => void): Promise<void> {
    const fields: string[] = [];
    const chunks: string[] = [];
    let text = '';
    const replica = copyText(this.replica);
    fill({
      fields: (names) => fields.push(...names),
      row: (...row) => {
        text += copyRow(replica, ...row);
        if (text.length >= COPY_CHUNK) {
          chunks.push(text);
          text = '';
        }
      },
    });
    if (text) chunks.push(text);
    if (chunks.length === 0 && fields.length === 0) return;
    await this.tx(async (c) => {
      if (fields.length > 0) await insertFields(c, fields);
      if (chunks.length > 0) await pipeline(Readable.from(chunks), c.query(copyFrom(COPY_ROWS)));
    });
  }

  async deleteBefore(cutoff: number, limit: number): Promise<number> {
    const sql = 'DELETE FROM predictions WHERE id IN (SELECT id FROM predictions WHERE at < $1 ORDER BY at LIMIT $2)';
    return (await this.query(sql, [cutoff, limit])).rowCount ?? 0;
  }

  async deleteOldest(limit: number): Promise<number> {
    const sql = 'DELETE FROM predictions WHERE id IN (SELECT id FROM predictions ORDER BY at, id LIMIT $1)';
    return (await this.query(sql, [limit])).rowCount ?? 0;
  }

  async count(): Promise<number> {
    return (await this.query<{ n: number }>('SELECT count(*)::float8 AS n FROM predictions', [])).rows[0].n;
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1', []);
  }

  async lookup(keys: FeedbackKeys): Promise<FeedbackLookup> {
    const n = keys.rows.length;
    const out = emptyLookup(n);
    type Row = { model: string | null; version: number; at: number; label: string | null; request_rows: number };
    const { rows } = await this.query<Row>(LOOKUP, [keys.requestIds, Array.from(keys.rows)]);
    const modelIds = new Map<string, number>();
    rows.forEach((r, i) => {
      if (r.model === null) {
        out.model[i] = -1;
        out.requestRows[i] = r.request_rows;
        return;
      }
      let id = modelIds.get(r.model);
      if (id === undefined) modelIds.set(r.model, (id = out.models.push(r.model) - 1));
      out.model[i] = id;
      out.version[i] = r.version;
      out.at[i] = r.at;
      out.classification[i] = r.label === null ? 0 : 1;
    });
    return out;
  }

  /** One transaction under the feedback lock: all the batch's labels, or none when one conflicts with a stored label. */
  async storeFeedback(at: number, b: FeedbackBatch): Promise<Stored> {
    return this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, LOCK_FEEDBACK]);
      type Row = { request_id: string; row_index: number; actual_label: string | null; actual_value: number | null };
      const found = await c.query<Row>(
        `SELECT f.request_id, f.row_index, f.actual_label, f.actual_value FROM feedback f JOIN ${KEYS} ` +
          'ON f.request_id = k.request_id AND f.row_index = k.row_index',
        [b.requestIds, Array.from(b.rows)],
      );
      const existing = new Map<string, string | number>();
      for (const r of found.rows) existing.set(feedbackKey(r.request_id, r.row_index), r.actual_label ?? r.actual_value!);
      const result = classifyFeedback(b, existing);
      if (result.conflicts.length > 0) return { accepted: new Int32Array(0), duplicates: 0, conflicts: result.conflicts };
      if (result.insert.length > 0) {
        const pick = <T>(f: (i: number) => T) => result.insert.map(f);
        await c.query(
          'INSERT INTO feedback (at, request_id, row_index, actual_label, actual_value, prediction_at) ' +
            'SELECT $1, * FROM unnest($2::text[], $3::integer[], $4::text[], $5::float8[], $6::bigint[])',
          [
            Math.trunc(at),
            pick((i) => b.requestIds[i]),
            pick((i) => b.rows[i]),
            pick((i) => b.labels[i]),
            pick((i) => (b.labels[i] === null ? b.values[i] : null)),
            pick((i) => Math.trunc(b.predictionAt[i])),
          ],
        );
      }
      return { accepted: result.accepted, duplicates: result.duplicates, conflicts: [] };
    });
  }

  async qualityOf(keys: FeedbackKeys): Promise<LiveQuality[]> {
    const sql =
      `SELECT DISTINCT p.model, p.version FROM predictions p JOIN ${KEYS} ` +
      'ON p.request_id = k.request_id AND p.row_index = k.row_index';
    const { rows } = await this.query<{ model: string; version: number }>(sql, [keys.requestIds, Array.from(keys.rows)]);
    return this.qualities(rows);
  }

  async qualityOfAll(): Promise<LiveQuality[]> {
    const { rows } = await this.query<{ model: string; version: number }>(`SELECT DISTINCT p.model, p.version FROM ${JOIN}`, []);
    return this.qualities(rows);
  }

  private async qualities(versions: { model: string; version: number }[]): Promise<LiveQuality[]> {
    const out: LiveQuality[] = [];
    for (const { model, version } of versions) {
      const { rows } = await this.pool.query<WindowRow>({
        text:
          `SELECT p.label, p.prediction_values, f.actual_label, f.actual_value, p.at::float8, f.at::float8 FROM ${JOIN} ` +
          'WHERE p.model = $1 AND p.version = $2 ORDER BY f.id DESC, p.id LIMIT $3',
        values: [model, version, this.windowSize],
        rowMode: 'array',
      });
      out.push(windowQuality(model, version, this.windowSize, rows));
    }
    return out;
  }

  async pruneOrphans(): Promise<number> {
    const sql =
      'DELETE FROM feedback f WHERE f.prediction_at <= (SELECT coalesce(min(at), 9007199254740991) FROM predictions) ' +
      'AND NOT EXISTS (SELECT 1 FROM predictions p WHERE p.request_id = f.request_id AND p.row_index = f.row_index)';
    return (await this.query(sql, [])).rowCount ?? 0;
  }

  keepsRows(err: unknown): boolean {
    return pgUnreachable(err) || (/^[0-9A-Z]{5}$/.test(codeOf(err)) && !BUG_SQLSTATE.test(codeOf(err)));
  }

  unreachable(err: unknown): boolean {
    return pgUnreachable(err);
  }

  closing(): void {}

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** A stored prediction as the export reads it: at, request_id, model, version, inputs, label, probabilities, latency_ms, values. */
export type RawRow = [number, string, string, number, string, string | null, string | null, number, string | null];
/** A labelled prediction: inputs, actual label, actual value. */
export type LabelledRow = [string, string | null, number | null];

/** Rows per SELECT of the export: one keyset page at a time, never the whole log in memory. */
const PAGE_ROWS = 1000;

/**
 * Reads the log back for `mlops logs export`: one read-only snapshot (REPEATABLE READ) for the
 * header and every page, pages keyed on (at, id) so that each is an index range scan.
 */
export class PostgresLogReader {
  private readonly client: pg.Client;
  readonly name: string;

  private constructor(url: string) {
    this.name = redactUrl(url);
    this.client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: 'mlops logs export' });
    this.client.on('error', () => {}); // the query in progress rejects with it
  }

  /** Connected, in its snapshot; null when the log was never written to this database (no tables yet). */
  static async open(url: string): Promise<PostgresLogReader | null> {
    const reader = new PostgresLogReader(url);
    await reader.client.connect();
    try {
      await reader.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows } = await reader.client.query<{ t: string | null }>("SELECT to_regclass('prediction_log_schema')::text AS t");
      if (rows[0].t === null) {
        await reader.close();
        return null;
      }
      return reader;
    } catch (err) {
      await reader.close();
      throw err;
    }
  }

  async fields(): Promise<string[]> {
    const { rows } = await this.client.query<{ name: string }>('SELECT name FROM prediction_input_fields ORDER BY position');
    return rows.map((r) => r.name);
  }

  /** The rows at or after `since`, by time then id, a page at a time. */
  async *rows(since: number): AsyncGenerator<RawRow[]> {
    const columns =
      'SELECT at::float8, request_id, model, version, inputs, label, probabilities, latency_ms, prediction_values, id FROM predictions';
    let page = await this.page<RawRow>(`${columns} WHERE at >= $1 ORDER BY at, id LIMIT ${PAGE_ROWS}`, [since]);
    while (page.length > 0) {
      yield page.map((r) => r.slice(0, 9) as RawRow);
      if (page.length < PAGE_ROWS) return;
      const last = page[page.length - 1] as unknown[];
      page = await this.page<RawRow>(`${columns} WHERE (at, id) > ($1, $2) ORDER BY at, id LIMIT ${PAGE_ROWS}`, [last[0], last[9]]);
    }
  }

  /** The labelled answers (not shadow predictions) of `model`, one per label, in label order. */
  async *labelled(model: string): AsyncGenerator<LabelledRow[]> {
    // DISTINCT ON: a label joins its answer once even when a request id was reused.
    const sql = (after: string) =>
      `SELECT DISTINCT ON (f.id) p.inputs, f.actual_label, f.actual_value, f.id FROM ${JOIN} ` +
      `WHERE p.model = $1 AND p.shadow = 0 ${after} ORDER BY f.id, p.id LIMIT ${PAGE_ROWS}`;
    let page = await this.page<LabelledRow>(sql(''), [model]);
    while (page.length > 0) {
      yield page.map((r) => r.slice(0, 3) as LabelledRow);
      if (page.length < PAGE_ROWS) return;
      page = await this.page<LabelledRow>(sql('AND f.id > $2'), [model, (page[page.length - 1] as unknown[])[3]]);
    }
  }

  async labelledModels(): Promise<string[]> {
    const { rows } = await this.client.query<{ model: string }>(`SELECT DISTINCT p.model FROM ${JOIN} ORDER BY p.model`);
    return rows.map((r) => r.model);
  }

  private async page<T>(text: string, values: unknown[]): Promise<T[]> {
    return (await this.client.query<T & unknown[]>({ text, values, rowMode: 'array' })).rows;
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}
