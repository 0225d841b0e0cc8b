// The prediction log's writer thread (dist/prediction-log-worker.js; from sources under tsx in
// tests). It owns the only writing connection to predictions.sqlite: it rebuilds the rows from the
// main thread's columnar hand-overs, builds their JSON text, inserts them (one transaction per
// hand-over, or for all hand-overs waiting after a failure) and applies retention. See prediction-log.ts.
import { parentPort, workerData } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { openSqlite } from '../common/sqlite';
import { errors } from '../common/errors';
import {
  F_PROBS_F32,
  F_ROWS_F32,
  M_AT,
  M_CLASSES,
  M_FEATURES,
  M_FLAGS,
  M_LATENCY,
  M_MODEL,
  M_TARGETS,
  M_ROWS,
  M_SHADOW,
  M_VERSION,
  META,
  MIGRATIONS,
  predictionLogError,
} from './prediction-log-protocol';
import type { FromWorker, ReturnedBuffers, ToWorker, WireError, WorkerConfig, WriteMessage } from './prediction-log-protocol';
import { FeedbackStore } from './prediction-log-feedback';

// bound per row: at, request_id, model, version, row_index, inputs, label, probabilities, latency_ms, prediction_values, shadow
const COLUMNS = 11;
/**
 * Rows per multi-row INSERT (352 bound parameters; 16 to 300 measured alike, 1 is ~20% slower);
 * the remainder goes through the one-row statement.
 */
const CHUNK_ROWS = 32;
/** Rows per DELETE statement of the retention. */
const RETENTION_BATCH = 5_000;
/**
 * Rows the timer's retention (at most once a second) deletes per run beyond the rows written since the
 * last run: a lowered limit is caught up in steps (~1.3 µs per deleted row: 20k ≈ 25 ms) rather than
 * one long transaction holding the write lock, and steady deletion still keeps up with any insert rate.
 */
const RETENTION_BUDGET = 20_000;
const DAY_MS = 86_400_000;
/**
 * How long a write waits for another connection's write lock before it fails (the rows stay and are
 * retried on the next tick, and the failure is reported). The wait happens in this worker, so it does not
 * hold the server's event loop, but a flush() caller should still hear of a lock held by another process soon.
 */
const BUSY_TIMEOUT_MS = 250;
/** The final commit of close() waits as long as any other opener of these files (openSqlite). */
const CLOSE_BUSY_TIMEOUT_MS = 5000;

/** How one feature list is written: kept (non-redacted) columns and their pre-escaped JSON keys. */
interface Layout {
  keep: number[];
  /** `{"name":` for the first kept field, `,"name":` for the others. */
  keys: string[];
  names: string[];
  /** Per kept field: its LogKind ('f' when the list has no kinds: all float32 or all numbers, as the flag says). */
  kinds: string[];
  /** Features in the list (kept or not): the stride of its rows in `values`. */
  width: number;
  /** Names committed to input_fields. */
  registered: boolean;
}

class Writer {
  private db: Database.Database | null = null;
  private insertMany!: Database.Statement;
  private insertOne!: Database.Statement;
  private insertField!: Database.Statement;
  private feedback!: FeedbackStore;
  private writeTx!: (messages: WriteMessage[]) => void;
  private readonly params: unknown[] = new Array(CHUNK_ROWS * COLUMNS);
  private readonly redact: Set<string>;
  private readonly layouts: Layout[] = [];
  private readonly models: string[] = [];
  /** Received, not yet committed, in order. */
  private pending: WriteMessage[] = [];
  private pendingRows = 0;
  /** Highest seq received (write or retry). */
  private lastSeq = 0;
  private scheduled = false;
  /** A message of the pending ones asked for the timer's retention. */
  private retainDue = false;
  private closed = false;
  private written = 0;
  private writtenAtRetention = 0;
  /** Rows in the table as far as this connection knows (exact count taken before deleting anything). */
  private rowEstimate = -1;

  constructor(
    private readonly config: WorkerConfig,
    private readonly post: (message: FromWorker, transfer?: ArrayBuffer[]) => void,
  ) {
    this.redact = new Set(config.redact);
  }

  handle(message: ToWorker): void {
    if (this.closed) return;
    switch (message.type) {
      case 'write':
        for (const set of message.featureSets) this.layouts.push(this.layout(set.names, set.kinds));
        for (const model of message.models) this.models.push(model);
        this.pending.push(message);
        this.pendingRows += message.rows;
        this.lastSeq = message.seq;
        this.retainDue ||= message.retain;
        this.schedule();
        break;
      case 'retry':
        this.lastSeq = message.seq;
        this.retainDue ||= message.retain;
        this.schedule();
        break;
      case 'retention':
        this.timerRetention();
        break;
      case 'close':
        this.close();
        break;
      case 'lookup':
      case 'feedback':
      case 'quality':
        this.feedbackRequest(message);
        break;
    }
  }

  /**
   * Feedback is joined to what the log holds: the rows handed over before it are committed first (a
   * label may follow its prediction within one flush interval). Answered in order with the writes.
   */
  private feedbackRequest(message: Extract<ToWorker, { type: 'lookup' | 'feedback' | 'quality' }>): void {
    const id = message.type === 'quality' ? -1 : message.id;
    try {
      if (this.pending.length > 0 && !this.commit())
        throw new Error('prediction log: the predictions before this feedback could not be written');
      this.open();
      switch (message.type) {
        case 'lookup':
          this.post({ type: 'lookedUp', id, results: this.feedback.lookup(message.keys) });
          break;
        case 'feedback': {
          const result = this.feedback.store(message.at, message.entries);
          const qualities = result.conflicts.length > 0 || result.accepted.length === 0 ? [] : this.feedback.qualityOf(message.entries);
          this.post({ type: 'stored', id, ...result, qualities });
          break;
        }
        case 'quality':
          this.post({ type: 'quality', qualities: this.feedback.qualityOfAll(), replace: true });
          break;
      }
    } catch (err) {
      if (message.type === 'quality') this.post({ type: 'warning', error: wire(err) });
      else this.post({ type: 'requestFailed', id, error: wire(err) });
    }
  }

  /**
   * Commits on the next turn of this thread's loop rather than per message: hand-overs that arrived
   * together (a flush() beside the timer's) share one transaction.
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.closed) this.commit();
    });
  }

  /** Writes every pending hand-over in one transaction and answers 'committed' or 'failed'. Returns success. */
  private commit(): boolean {
    const seq = this.lastSeq;
    const rows = this.pendingRows;
    if (this.pending.length === 0) {
      this.post({ type: 'committed', seq, rows: 0, transactions: 0, buffers: [] });
      if (this.retainDue) this.timerRetention();
      return true;
    }
    try {
      this.open();
    } catch (err) {
      this.post({ type: 'failed', seq, dropped: 0, error: wire(err) });
      return false;
    }
    try {
      this.writeTx(this.pending);
    } catch (err) {
      // Rolled back. SQLite errors (busy, disk full...) keep the rows for the next attempt; anything
      // else would fail again on the same rows: drop them rather than stall the log.
      const sqlite = /^SQLITE_/.test(String((err as { code?: unknown }).code));
      if (!sqlite) this.clearPending();
      this.post({ type: 'failed', seq, dropped: sqlite ? 0 : rows, error: wire(err) });
      return false;
    }
    const buffers: ReturnedBuffers[] = this.pending.map((m) => ({
      meta: m.meta.buffer as ArrayBuffer,
      values: m.values.buffer as ArrayBuffer,
      labelIndex: m.labelIndex.buffer as ArrayBuffer,
    }));
    this.clearPending();
    this.written += rows;
    if (this.rowEstimate >= 0) this.rowEstimate += rows;
    // The buffers go back to the main thread, which fills them again: no allocation per tick.
    this.post(
      { type: 'committed', seq, rows, transactions: rows > 0 ? 1 : 0, buffers },
      buffers.flatMap((b) => [b.meta, b.values, b.labelIndex]),
    );
    if (this.retainDue) this.timerRetention();
    return true;
  }

  private clearPending(): void {
    this.pending = [];
    this.pendingRows = 0;
  }

  private close(): void {
    this.closed = true;
    let error: WireError | null = null;
    try {
      if (this.pending.length > 0) {
        const rows = this.pendingRows;
        this.open();
        this.db!.pragma(`busy_timeout = ${CLOSE_BUSY_TIMEOUT_MS}`);
        if (!this.commit()) error = { name: 'Error', message: `prediction log: ${rows} rows could not be written before closing` };
      }
    } catch (err) {
      error = wire(err);
    }
    try {
      this.db?.close();
    } catch {
      // closing never fails in a way that matters here
    }
    this.db = null;
    const done = new Int32Array(this.config.done);
    Atomics.store(done, 0, error ? 2 : 1);
    Atomics.notify(done, 0);
    this.post({ type: 'closed', error });
  }

  private open(): void {
    if (this.db) return;
    const db = openSqlite(this.config.file, MIGRATIONS, errors.predictionLogBusy);
    try {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      const values = (k: number) => Array.from({ length: k }, () => `(${new Array(COLUMNS).fill('?').join(',')})`).join(',');
      const insert =
        'INSERT INTO predictions (at, request_id, model, version, row_index, inputs, label, probabilities, latency_ms, ' +
        'prediction_values, shadow) VALUES ';
      this.insertMany = db.prepare(insert + values(CHUNK_ROWS));
      this.insertOne = db.prepare(insert + values(1));
      this.insertField = db.prepare('INSERT OR IGNORE INTO input_fields (name) VALUES (?)');
      this.feedback = new FeedbackStore(db, this.config.qualityWindow);
      this.writeTx = db.transaction((messages: WriteMessage[]) => {
        const registered: Layout[] = [];
        for (const m of messages) this.write(m, registered);
        // Marked only once the transaction is sure to commit (nothing after this can throw).
        for (const layout of registered) layout.registered = true;
      });
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
  }

  /** Runs inside the transaction: the JSON strings are built here, off the main thread. */
  private write(m: WriteMessage, registered: Layout[]): void {
    const p = this.params;
    const { meta, values, labelIndex, labels, requestIds } = m;
    let j = 0; // rows bound in p
    let v = 0; // cursor in values
    let row = 0; // cursor in labelIndex
    for (let q = 0; q < m.requests; q++) {
      const o = q * META;
      const layout = this.layouts[meta[o + M_FEATURES]];
      if (!layout.registered && !registered.includes(layout)) {
        for (const name of layout.names) this.insertField.run(name);
        registered.push(layout);
      }
      const { keep, keys, kinds } = layout;
      const f = layout.width;
      const n = meta[o + M_ROWS];
      const c = meta[o + M_CLASSES];
      const t = meta[o + M_TARGETS];
      const flags = meta[o + M_FLAGS];
      const rowsF32 = (flags & F_ROWS_F32) !== 0;
      const probsF32 = (flags & F_PROBS_F32) !== 0;
      const inputsAt = v;
      v += n * f;
      const probsAt = v;
      if (c >= 0) v += n * c;
      const targetsAt = v;
      if (t >= 0) v += n * t;
      // A bad number must not make the whole transaction fail (NOT NULL): it is replaced, never refused.
      const rawAt = meta[o + M_AT];
      const at = Number.isFinite(rawAt) ? Math.trunc(rawAt) : Date.now();
      const requestId = requestIds[q];
      const model = this.models[meta[o + M_MODEL]];
      const version = Math.trunc(meta[o + M_VERSION]) || 0;
      const rawLatency = meta[o + M_LATENCY];
      const latency = Number.isFinite(rawLatency) ? rawLatency : 0;
      const shadow = meta[o + M_SHADOW] === 1 ? 1 : 0;
      for (let r = 0; r < n; r++) {
        let inputs: string;
        if (keep.length === 0) inputs = '{}';
        else {
          inputs = '';
          const base = inputsAt + r * f;
          for (let k = 0; k < keep.length; k++) inputs += keys[k] + typed(values[base + keep[k]], kinds[k], rowsF32, labels);
          inputs += '}';
        }
        let pj: string | null = null;
        if (c >= 0) {
          pj = '[';
          const base = probsAt + r * c;
          for (let k = 0; k < c; k++) pj += (k ? ',' : '') + num(values[base + k], probsF32);
          pj += ']';
        }
        let tj: string | null = null;
        if (t >= 0) {
          tj = '[';
          const base = targetsAt + r * t;
          for (let k = 0; k < t; k++) tj += (k ? ',' : '') + num(values[base + k], true);
          tj += ']';
        }
        const li = labelIndex[row++];
        const b = j * COLUMNS;
        p[b] = at;
        p[b + 1] = requestId;
        p[b + 2] = model;
        p[b + 3] = version;
        p[b + 4] = r;
        p[b + 5] = inputs;
        p[b + 6] = li >= 0 ? labels[li] : null;
        p[b + 7] = pj;
        p[b + 8] = latency;
        p[b + 9] = tj;
        p[b + 10] = shadow;
        if (++j === CHUNK_ROWS) {
          this.insertMany.run(p);
          j = 0;
        }
      }
    }
    for (let r = 0; r < j; r++) this.insertOne.run(p.slice(r * COLUMNS, (r + 1) * COLUMNS));
  }

  private layout(features: string[], kinds: string): Layout {
    const keep: number[] = [];
    const names: string[] = [];
    const kept: string[] = [];
    features.forEach((name, i) => {
      if (!this.redact.has(name)) {
        keep.push(i);
        names.push(name);
        kept.push(kinds[i] ?? '');
      }
    });
    const keys = names.map((name, i) => (i ? ',' : '{') + JSON.stringify(name) + ':');
    return { keep, keys, kinds: kept, names, width: features.length, registered: false };
  }

  /** The retention the main thread's timer asks for (at most once a second), after its hand-over is committed. */
  private timerRetention(): void {
    this.retainDue = false;
    const { maxRows, maxAgeDays } = this.config;
    if ((maxRows === undefined && maxAgeDays === undefined) || this.closed) return;
    const now = Date.now();
    const budget = RETENTION_BUDGET + (this.written - this.writtenAtRetention);
    this.writtenAtRetention = this.written;
    try {
      // Labels go with their predictions; the versions' windows are computed again without them.
      if (this.retain(now, budget) > 0 && this.feedback.pruneOrphans() > 0) {
        this.post({ type: 'quality', qualities: this.feedback.qualityOfAll(), replace: true });
      }
    } catch (err) {
      this.post({ type: 'warning', error: wire(err) });
    }
  }

  /** Deletes at most `budget` rows beyond the limits; returns rows deleted. */
  private retain(now: number, budget: number): number {
    const { maxRows, maxAgeDays } = this.config;
    this.open();
    const db = this.db!;
    let deleted = 0;
    if (maxAgeDays !== undefined) {
      const cutoff = now - maxAgeDays * DAY_MS;
      const stmt = db.prepare('DELETE FROM predictions WHERE id IN (SELECT id FROM predictions WHERE at < ? ORDER BY at LIMIT ?)');
      while (deleted < budget) {
        const changes = stmt.run(cutoff, Math.min(RETENTION_BATCH, budget - deleted)).changes;
        deleted += changes;
        if (changes < RETENTION_BATCH) break;
      }
      if (this.rowEstimate >= 0) this.rowEstimate -= deleted;
    }
    if (maxRows !== undefined && deleted < budget) {
      // The estimate (count at the last check + rows written since) only decides whether to look:
      // the exact count is taken before deleting, so that another writer's deletes are never doubled.
      if (this.rowEstimate < 0 || this.rowEstimate > maxRows) {
        this.rowEstimate = db.prepare('SELECT count(*) FROM predictions').pluck().get() as number;
      }
      const stmt = db.prepare('DELETE FROM predictions WHERE id IN (SELECT id FROM predictions ORDER BY at, id LIMIT ?)');
      let excess = Math.min(this.rowEstimate - maxRows, budget - deleted);
      while (excess > 0) {
        const changes = stmt.run(Math.min(RETENTION_BATCH, excess)).changes;
        if (changes === 0) break;
        deleted += changes;
        excess -= changes;
        this.rowEstimate -= changes;
      }
    }
    return deleted;
  }
}

/** An error as it crosses to the main thread (a cloned Error keeps neither `code` nor `status`). */
function wire(err: unknown): WireError {
  type Loose = { name?: unknown; message?: unknown; code?: unknown; status?: unknown };
  const e = predictionLogError(err, (workerData as WorkerConfig).file) as Loose;
  const out: WireError = {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
  };
  if (typeof e?.code === 'string') out.code = e.code;
  if (typeof e?.status === 'number') out.status = e.status;
  return out;
}

/** JSON text of an input by its LogKind: strings are indexes into the message's strings, booleans 0/1. */
function typed(x: number, kind: string, rowsF32: boolean, strings: string[]): string {
  switch (kind) {
    case 's':
      return JSON.stringify(strings[x] ?? '');
    case 'b':
      return x === 1 ? 'true' : 'false';
    case 'f':
      return num(x, true);
    case 'd':
      return num(x, false);
    default:
      return num(x, rowsF32);
  }
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

if (parentPort) {
  const port = parentPort;
  const writer = new Writer(workerData as WorkerConfig, (message, transfer) => port.postMessage(message, transfer ?? []));
  port.on('message', (message: ToWorker) => writer.handle(message));
}
