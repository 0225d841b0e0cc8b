// The prediction log: every input row the server answers, with its prediction, kept in its own
// SQLite file (<data dir>/predictions.sqlite) so that it can be wiped alone and never contends with
// registry writes. This is the only code that writes SQL for it.
//
// The request path only appends to an in-memory queue (record(): copies the request's arrays, no
// string building, no I/O). A timer flushes the queue every flushIntervalMs in one transaction, so a
// crash (SIGKILL) loses at most the rows recorded since the last committed flush; close() flushes
// everything, and so does process exit for logs left open.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { PredictionLogEntry, PredictionLogStats } from '../common/contract';
import { openSqlite, translateSqliteError } from '../common/sqlite';

export const PREDICTIONS_DB_FILE = 'predictions.sqlite';

export interface PredictionLogOptions {
  dataDir: string;
  /** Max rows waiting in memory; beyond it new rows are dropped and counted (never blocks a request). Default 100_000. */
  maxQueue?: number;
  /** Flush period in ms (default 200). A flush is one transaction with one prepared multi-row insert path. */
  flushIntervalMs?: number;
  /** Retention: keep at most this many rows (oldest deleted), and/or rows younger than maxAgeDays. Undefined = keep all. Applied after flushes, at most once per second, in batches. */
  maxRows?: number;
  maxAgeDays?: number;
  /** Input field names never stored (personal data): removed from `inputs` before writing. */
  redact?: string[];
  /** Called when a timer flush or retention fails (the rows stay queued and are retried), at most once a minute. Default: process.emitWarning. */
  onError?: (err: unknown) => void;
}

export interface PredictionBatch {
  at: number;
  requestId: string;
  model: string;
  version: number;
  features: string[];
  /** Row-major N × features.length. */
  rows: ArrayLike<number>;
  labels: string[];
  /** Row-major N × nClasses, or null. */
  probabilities: ArrayLike<number> | null;
  nClasses: number;
  latencyMs: number;
}

// Each entry moves the schema one version up; PRAGMA user_version records how far a file is.
const MIGRATIONS: string[] = [
  `
  CREATE TABLE predictions (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    row_index INTEGER NOT NULL,
    inputs TEXT NOT NULL,
    label TEXT NOT NULL,
    probabilities TEXT,
    latency_ms REAL NOT NULL
  );
  CREATE INDEX predictions_at ON predictions(at);
  -- Every input field name ever stored, in order of first appearance: the CSV export's columns.
  CREATE TABLE input_fields (
    name TEXT PRIMARY KEY
  );
  `,
];

const COLUMNS = 9; // bound per row: at, request_id, model, version, row_index, inputs, label, probabilities, latency_ms
/** Rows per multi-row INSERT (288 bound parameters; 16 to 300 measured alike, 1 is ~20% slower); the remainder goes through the one-row statement. */
const CHUNK_ROWS = 32;
/** Rows per DELETE statement of the retention. */
const RETENTION_BATCH = 5_000;
/**
 * Rows the timer's retention deletes per run (once a second) beyond the rows written since the last
 * run: a lowered limit is caught up in steps (~1.3 µs per deleted row measured: 20k ≈ 25 ms) instead
 * of one long stall of the event loop, and steady deletion still keeps up with any insert rate.
 */
const RETENTION_BUDGET = 20_000;
const DAY_MS = 86_400_000;
/** Export writes are grouped into chunks of about this many characters. */
const EXPORT_CHUNK = 64 * 1024;
const CSV_FIXED = ['at', 'request_id', 'model', 'version', 'label', 'probabilities', 'latency_ms'];

/**
 * One request's rows waiting for a flush. Its numbers are copied into the log's value pool (the caller
 * may reuse its buffers): one pool instead of a typed array per request, because allocating a typed
 * array of a few hundred values costs about 1 µs, ten times the copy.
 */
interface QueuedBatch {
  at: number;
  requestId: string;
  model: string;
  version: number;
  features: string[];
  /** Offset in the pool of the row-major n × features.length inputs. */
  rows: number;
  labels: string[];
  /** Offset in the pool of the row-major n × nClasses probabilities, or -1. */
  probabilities: number;
  nClasses: number;
  latencyMs: number;
  n: number;
  /** The values came as float32 (the server's tensors): written as the shortest float32 decimal. */
  rowsF32: boolean;
  probsF32: boolean;
}

/** How one feature list is written: kept (non-redacted) columns and their pre-escaped JSON keys. */
interface Layout {
  keep: number[];
  /** `{"name":` for the first kept field, `,"name":` for the others. */
  keys: string[];
  names: string[];
  /** Names committed to input_fields. */
  registered: boolean;
}

// Logs still open when the process exits get a last synchronous flush (better-sqlite3 is synchronous,
// so this works in an 'exit' listener): a process that ends without close() loses nothing either.
const openLogs = new Set<PredictionLog>();
let exitHook = false;
function closeAllOnExit(): void {
  for (const log of [...openLogs]) {
    try {
      log.close();
    } catch (err) {
      fs.writeSync(2, `prediction log: final flush failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
}

export class PredictionLog {
  private queue: QueuedBatch[] = [];
  private queued = 0;
  /** Numbers of the queued batches (float64 holds float32 values exactly); reused after each flush. */
  private pool = new Float64Array(4096);
  private used = 0;
  private written = 0;
  private dropped = 0;
  private flushes = 0;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly layouts = new Map<string, Layout>();
  private lastFeatures: string[] | null = null;
  private lastLayout: Layout | null = null;
  private readonly redact: Set<string>;
  private lastRetention = 0;
  private writtenAtRetention = 0;
  private lastErrorReport = -Infinity;
  /** Rows in the table as far as this instance knows (exact count taken before deleting anything). */
  private rowEstimate = -1;
  private readonly params: unknown[] = new Array(CHUNK_ROWS * COLUMNS);
  private readonly insertMany: Database.Statement;
  private readonly insertOne: Database.Statement;
  private readonly insertField: Database.Statement;
  private readonly writeTx: (batches: QueuedBatch[]) => void;

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
    private readonly maxQueue: number,
    private readonly maxRows: number | undefined,
    private readonly maxAgeDays: number | undefined,
    redact: string[],
    private readonly onError: (err: unknown) => void,
    flushIntervalMs: number,
  ) {
    this.redact = new Set(redact);
    const values = (k: number) => Array.from({ length: k }, () => `(${new Array(COLUMNS).fill('?').join(',')})`).join(',');
    const insert = 'INSERT INTO predictions (at, request_id, model, version, row_index, inputs, label, probabilities, latency_ms) VALUES ';
    this.insertMany = db.prepare(insert + values(CHUNK_ROWS));
    this.insertOne = db.prepare(insert + values(1));
    this.insertField = db.prepare('INSERT OR IGNORE INTO input_fields (name) VALUES (?)');
    this.writeTx = db.transaction((batches: QueuedBatch[]) => this.write(batches));
    this.timer = setInterval(() => this.tick(), flushIntervalMs);
    this.timer.unref();
  }

  /** Creates the directory, the database and its schema, and starts the flush timer (unref'd). */
  static open(opts: PredictionLogOptions): PredictionLog {
    const maxQueue = opts.maxQueue ?? 100_000;
    const flushIntervalMs = opts.flushIntervalMs ?? 200;
    if (!(maxQueue >= 0)) throw new RangeError(`maxQueue must be ≥ 0, got ${maxQueue}`);
    if (!(flushIntervalMs > 0)) throw new RangeError(`flushIntervalMs must be > 0, got ${flushIntervalMs}`);
    if (opts.maxRows !== undefined && !(opts.maxRows >= 0)) throw new RangeError(`maxRows must be ≥ 0, got ${opts.maxRows}`);
    if (opts.maxAgeDays !== undefined && !(opts.maxAgeDays > 0)) throw new RangeError(`maxAgeDays must be > 0, got ${opts.maxAgeDays}`);
    fs.mkdirSync(opts.dataDir, { recursive: true });
    const file = path.join(opts.dataDir, PREDICTIONS_DB_FILE);
    let db: Database.Database | undefined;
    let log: PredictionLog;
    try {
      // synchronous NORMAL (openSqlite): a committed flush survives a SIGKILL; FULL would fsync on
      // every flush for no gain here.
      db = openSqlite(file, MIGRATIONS);
      // Flushes run on the event loop: another process holding the write lock may delay one by at most
      // this much; then it fails, its rows stay queued and the next tick retries.
      db.pragma('busy_timeout = 100');
      log = new PredictionLog(db, file, maxQueue, opts.maxRows, opts.maxAgeDays, opts.redact ?? [], opts.onError ?? warn, flushIntervalMs);
    } catch (err) {
      db?.close();
      throw translateSqliteError(err, file);
    }
    openLogs.add(log);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', closeAllOnExit);
    }
    return log;
  }

  /** Queues one request's rows; O(rows), no I/O. Returns false if (some) rows were dropped because the queue is full. */
  record(batch: PredictionBatch): boolean {
    const n = batch.labels.length;
    if (n === 0) return true;
    const f = batch.features.length;
    if (batch.rows.length < n * f) throw new RangeError(`prediction log: ${batch.rows.length} input values for ${n} rows of ${f} features`);
    if (batch.probabilities && batch.probabilities.length < n * batch.nClasses) {
      throw new RangeError(`prediction log: ${batch.probabilities.length} probabilities for ${n} rows of ${batch.nClasses} classes`);
    }
    const room = this.closed ? 0 : this.maxQueue - this.queued;
    if (room <= 0) {
      this.dropped += n;
      return false;
    }
    // When only part fits, the first rows are kept (row_index tells which): rows are never lost silently.
    const k = n <= room ? n : room;
    const probs = batch.probabilities;
    const rows = this.copy(batch.rows, k * f);
    this.queue.push({
      at: batch.at,
      requestId: batch.requestId,
      model: batch.model,
      version: batch.version,
      features: batch.features,
      rows,
      labels: batch.labels.slice(0, k),
      probabilities: probs ? this.copy(probs, k * batch.nClasses) : -1,
      nClasses: batch.nClasses,
      latencyMs: batch.latencyMs,
      n: k,
      rowsF32: batch.rows instanceof Float32Array,
      probsF32: probs instanceof Float32Array,
    });
    this.queued += k;
    if (k < n) {
      this.dropped += n - k;
      return false;
    }
    return true;
  }

  /** Writes everything queued now (synchronously, one transaction). Returns rows written. */
  flush(): number {
    if (this.queued === 0 || !this.db.open) return 0;
    const batches = this.queue;
    try {
      this.writeTx(batches);
    } catch (err) {
      // Rolled back: the rows stay queued for the next flush (the queue bound still applies).
      throw translateSqliteError(err, this.file);
    }
    const rows = this.queued;
    this.queue = [];
    this.queued = 0;
    this.used = 0;
    if (this.pool.length > 1 << 20) this.pool = new Float64Array(4096); // give back a backlog's 8 MB+
    this.written += rows;
    this.flushes++;
    if (this.rowEstimate >= 0) this.rowEstimate += rows;
    return rows;
  }

  /** Final flush and close; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    openLogs.delete(this);
    try {
      this.flush();
    } finally {
      this.db.close();
    }
  }

  /** Rows are counted, not requests. `flushes` counts flushes that wrote at least one row. */
  stats(): PredictionLogStats {
    return { enabled: true, queued: this.queued, written: this.written, dropped: this.dropped, flushes: this.flushes };
  }

  /** Reads committed rows back, oldest first (by time, then insertion). Queued rows are not included until flushed. */
  read(opts: { since?: number; limit?: number } = {}): PredictionLogEntry[] {
    const rows = this.db
      .prepare(`${SELECT} WHERE at >= ? ORDER BY at, id LIMIT ?`)
      .raw(true)
      .all(opts.since ?? Number.MIN_SAFE_INTEGER, opts.limit ?? -1) as RawRow[];
    return rows.map((r) => ({
      at: r[0],
      requestId: r[1],
      model: r[2],
      version: r[3],
      inputs: JSON.parse(r[4]) as Record<string, number>,
      label: r[5],
      probabilities: r[6] === null ? null : (JSON.parse(r[6]) as number[]),
      latencyMs: r[7],
    }));
  }

  /**
   * Streams the committed log (or the rows since `since`) to `out` as CSV or JSONL, from one read
   * snapshot on a connection of its own (an open iterator would block the flushes on this one), with
   * flat memory and backpressure. Does not end `out`. Returns rows written.
   * CSV columns: at (ISO), request_id, model, version, every input field stored so far (a field named
   * like a fixed column is headed `input:<name>`; empty where a row has no such field), label,
   * probabilities (JSON), latency_ms.
   */
  async export(format: 'csv' | 'jsonl', out: NodeJS.WritableStream, opts: { since?: number } = {}): Promise<number> {
    const reader = new Database(this.file, { readonly: true, fileMustExist: true, timeout: 5000 });
    let failure: unknown = null;
    const onError = (err: unknown) => (failure ??= err);
    out.on('error', onError);
    let count = 0;
    try {
      reader.exec('BEGIN'); // one snapshot for the header and the rows
      const fields = (reader.prepare('SELECT name FROM input_fields ORDER BY rowid').pluck().all() as string[]);
      const column = new Map(fields.map((name, i) => [name, i]));
      let buf = '';
      if (format === 'csv') {
        const taken = new Set(CSV_FIXED);
        const header = [...CSV_FIXED.slice(0, 4), ...fields.map((f) => (taken.has(f) ? `input:${f}` : f)), ...CSV_FIXED.slice(4)];
        buf = header.map(csvCell).join(',') + '\r\n';
      }
      const cells: string[] = new Array(fields.length);
      const stmt = reader.prepare(`${SELECT} WHERE at >= ? ORDER BY at, id`).raw(true);
      for (const r of stmt.iterate(opts.since ?? Number.MIN_SAFE_INTEGER) as IterableIterator<RawRow>) {
        if (format === 'jsonl') {
          buf +=
            `{"at":${r[0]},"requestId":${JSON.stringify(r[1])},"model":${JSON.stringify(r[2])},"version":${r[3]},` +
            `"inputs":${r[4]},"label":${JSON.stringify(r[5])},"probabilities":${r[6] ?? 'null'},"latencyMs":${r[7]}}\n`;
        } else {
          cells.fill('');
          const inputs = JSON.parse(r[4]) as Record<string, number | null>;
          for (const name in inputs) {
            const i = column.get(name);
            if (i !== undefined && inputs[name] !== null) cells[i] = String(inputs[name]);
          }
          buf +=
            `${new Date(r[0]).toISOString()},${csvCell(r[1])},${csvCell(r[2])},${r[3]},` +
            (cells.length ? cells.map(csvCell).join(',') + ',' : '') +
            `${csvCell(r[5])},${r[6] === null ? '' : csvCell(r[6])},${r[7]}\r\n`;
        }
        count++;
        if (buf.length >= EXPORT_CHUNK) {
          await writeChunk(out, buf, () => failure);
          buf = '';
        }
      }
      if (buf) await writeChunk(out, buf, () => failure);
      if (failure) throw failure;
      return count;
    } finally {
      out.off('error', onError);
      reader.close(); // ends the read transaction
    }
  }

  /** Applies retention now; returns rows deleted. */
  applyRetention(now: number = Date.now()): number {
    return this.retain(now, Infinity);
  }

  private retain(now: number, budget: number): number {
    if (!this.db.open) return 0;
    let deleted = 0;
    try {
      if (this.maxAgeDays !== undefined) {
        const cutoff = now - this.maxAgeDays * DAY_MS;
        const stmt = this.db.prepare('DELETE FROM predictions WHERE id IN (SELECT id FROM predictions WHERE at < ? ORDER BY at LIMIT ?)');
        while (deleted < budget) {
          const changes = stmt.run(cutoff, Math.min(RETENTION_BATCH, budget - deleted)).changes;
          deleted += changes;
          if (changes < RETENTION_BATCH) break;
        }
        if (this.rowEstimate >= 0) this.rowEstimate -= deleted;
      }
      if (this.maxRows !== undefined && deleted < budget) {
        // The estimate (count at the last check + rows written since) only decides whether to look:
        // the exact count is taken before deleting, so that another writer's deletes are never doubled.
        if (this.rowEstimate < 0 || this.rowEstimate > this.maxRows) {
          this.rowEstimate = this.db.prepare('SELECT count(*) FROM predictions').pluck().get() as number;
        }
        const stmt = this.db.prepare('DELETE FROM predictions WHERE id IN (SELECT id FROM predictions ORDER BY at, id LIMIT ?)');
        let excess = Math.min(this.rowEstimate - this.maxRows, budget - deleted);
        while (excess > 0) {
          const changes = stmt.run(Math.min(RETENTION_BATCH, excess)).changes;
          if (changes === 0) break;
          deleted += changes;
          excess -= changes;
          this.rowEstimate -= changes;
        }
      }
    } catch (err) {
      throw translateSqliteError(err, this.file);
    }
    return deleted;
  }

  private tick(): void {
    try {
      this.flush();
      const now = Date.now();
      if ((this.maxRows !== undefined || this.maxAgeDays !== undefined) && now - this.lastRetention >= 1000) {
        this.lastRetention = now;
        const budget = RETENTION_BUDGET + (this.written - this.writtenAtRetention);
        this.writtenAtRetention = this.written;
        this.retain(now, budget);
      }
    } catch (err) {
      const now = Date.now();
      if (now - this.lastErrorReport >= 60_000) {
        this.lastErrorReport = now;
        this.onError(err);
      }
    }
  }

  /** Runs inside the flush transaction: JSON strings are built here, off the request path. */
  private write(batches: QueuedBatch[]): void {
    const p = this.params;
    let j = 0; // rows bound in p
    const newLayouts: Layout[] = [];
    for (const b of batches) {
      const layout = this.layout(b.features);
      if (!layout.registered && !newLayouts.includes(layout)) {
        for (const name of layout.names) this.insertField.run(name);
        newLayouts.push(layout);
      }
      const { keep, keys } = layout;
      const f = b.features.length;
      const c = b.nClasses;
      const pool = this.pool;
      const { rowsF32, probsF32 } = b;
      // A bad number must not make the whole flush fail (NOT NULL): it is replaced, never refused.
      const at = Number.isFinite(b.at) ? Math.trunc(b.at) : Date.now();
      const requestId = String(b.requestId);
      const model = String(b.model);
      const version = Math.trunc(b.version) || 0;
      const latency = Number.isFinite(b.latencyMs) ? b.latencyMs : 0;
      for (let r = 0; r < b.n; r++) {
        let inputs: string;
        if (keep.length === 0) inputs = '{}';
        else {
          inputs = '';
          const base = b.rows + r * f;
          for (let k = 0; k < keep.length; k++) inputs += keys[k] + num(pool[base + keep[k]], rowsF32);
          inputs += '}';
        }
        let pj: string | null = null;
        if (b.probabilities >= 0) {
          pj = '[';
          const base = b.probabilities + r * c;
          for (let k = 0; k < c; k++) pj += (k ? ',' : '') + num(pool[base + k], probsF32);
          pj += ']';
        }
        const o = j * COLUMNS;
        p[o] = at;
        p[o + 1] = requestId;
        p[o + 2] = model;
        p[o + 3] = version;
        p[o + 4] = r;
        p[o + 5] = inputs;
        p[o + 6] = String(b.labels[r] ?? '');
        p[o + 7] = pj;
        p[o + 8] = latency;
        if (++j === CHUNK_ROWS) {
          this.insertMany.run(p);
          j = 0;
        }
      }
    }
    for (let r = 0; r < j; r++) this.insertOne.run(p.slice(r * COLUMNS, (r + 1) * COLUMNS));
    // Marked only once the transaction is sure to commit (nothing after this can throw).
    for (const layout of newLayouts) layout.registered = true;
  }

  /** Copies the first `length` values into the pool; returns their offset. */
  private copy(values: ArrayLike<number>, length: number): number {
    const at = this.used;
    if (at + length > this.pool.length) {
      const grown = new Float64Array(Math.max(this.pool.length * 2, at + length));
      grown.set(this.pool.subarray(0, at));
      this.pool = grown;
    }
    if (values.length === length) this.pool.set(values, at);
    else for (let i = 0; i < length; i++) this.pool[at + i] = values[i];
    this.used = at + length;
    return at;
  }

  private layout(features: string[]): Layout {
    if (features === this.lastFeatures && this.lastLayout) return this.lastLayout;
    const key = features.join('\u0000');
    let layout = this.layouts.get(key);
    if (!layout) {
      const keep: number[] = [];
      const names: string[] = [];
      features.forEach((name, i) => {
        if (!this.redact.has(name)) {
          keep.push(i);
          names.push(name);
        }
      });
      const keys = names.map((name, i) => (i ? ',' : '{') + JSON.stringify(name) + ':');
      layout = { keep, keys, names, registered: false };
      this.layouts.set(key, layout);
    }
    this.lastFeatures = features;
    this.lastLayout = layout;
    return layout;
  }
}

type RawRow = [number, string, string, number, string, string, string | null, number];
const SELECT = 'SELECT at, request_id, model, version, inputs, label, probabilities, latency_ms FROM predictions';

function warn(err: unknown): void {
  process.emitWarning(`prediction log: ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * JSON text of a number. Float32 values (the server's tensors) are written as the shortest decimal
 * that reads back as the same float32 (5.1, not 5.099999904632568): that is the value the client sent
 * and the model saw. Non-finite values have no JSON form: null.
 */
function num(x: number, f32: boolean): string {
  if (!Number.isFinite(x)) return 'null';
  if (f32 && x !== 0) {
    for (let p = 6; p < 9; p++) {
      const v = Number(x.toPrecision(p));
      if (Math.fround(v) === x) return String(v);
    }
    return String(Number(x.toPrecision(9))); // 9 significant digits always identify a float32
  }
  return String(x);
}

// csv-stringify is not installed (only csv-parse is), and quoting is all the export needs: RFC 4180
// cells, quoted when they hold a quote, a comma or a line break, with quotes doubled.
function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
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
