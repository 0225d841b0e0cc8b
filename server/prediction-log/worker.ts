// The prediction log's writer thread (dist/prediction-log-worker.js; from sources under tsx in
// tests). It owns the only writing connection to the log (predictions.sqlite, or PostgreSQL through
// store.ts): it rebuilds the rows from the main thread's columnar hand-overs, builds
// their JSON text, inserts them (one transaction per hand-over, or for all hand-overs waiting after a
// failure), retries with a backoff while the database is out of reach and applies retention. See index.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { errors } from '../../common/errors';
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
  predictionLogError,
} from './protocol';
import type { FromWorker, ReturnedBuffers, ToWorker, WireError, WorkerConfig, WriteMessage } from './protocol';
import { PostgresLogStore } from './postgres';
import { SqliteLogStore, type LogStore, type RowSink } from './store';

/** Rows per DELETE statement of the retention. */
const RETENTION_BATCH = 5_000;
/**
 * Rows the timer's retention (at most once a second) deletes per run beyond the rows written since the
 * last run: a lowered limit is caught up in steps (~1.3 µs per deleted row: 20k ≈ 25 ms) rather than
 * one long transaction holding the write lock, and steady deletion still keeps up with any insert rate.
 */
const RETENTION_BUDGET = 20_000;
const DAY_MS = 86_400_000;
/** After a failed attempt to reach the database, the next waits this long, doubling up to BACKOFF_MAX_MS. */
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5000;
/** close() waits this long for an unreachable database before it counts the rows it holds as lost. */
const CLOSE_WAIT_MS = 5000;

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

type FeedbackRequest = Extract<ToWorker, { type: 'lookup' | 'feedback' | 'quality' }>;

class Writer {
  private store: LogStore | null = null;
  /**
   * Every database operation runs after the previous one has finished: one write (or lookup) in flight
   * at a time on the connection, in the order the messages came. Hand-overs that arrive meanwhile wait
   * in `pending` and go together in the next transaction.
   */
  private ops: Promise<void> = Promise.resolve();
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
  /** Since when the database has been unreachable (epoch ms), or null; and when to try it again. */
  private downSince: number | null = null;
  private backoffMs = 0;
  private retryAt = 0;
  /** While the database is down: the next probe, so that its state comes back without traffic (/readyz). */
  private probe: NodeJS.Timeout | null = null;
  /** The start's quality request failed on a database out of reach: asked again once it is back. */
  private qualityOwed = false;

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
        this.enqueue(() => this.timerRetention());
        break;
      case 'close':
        this.closed = true;
        this.enqueue(() => this.close());
        break;
      case 'lookup':
      case 'feedback':
      case 'quality':
        this.enqueue(() => this.feedbackRequest(message));
        break;
    }
  }

  /** Runs `op` after every operation queued before it; each one reports its own errors. */
  private enqueue(op: () => void | Promise<void>): void {
    this.ops = this.ops.then(op).catch((err: unknown) => this.post({ type: 'warning', error: this.wire(err) }));
  }

  /**
   * Feedback is joined to what the log holds: the rows handed over before it are committed first (a
   * label may follow its prediction within one flush interval). Answered in order with the writes.
   */
  private async feedbackRequest(message: FeedbackRequest): Promise<void> {
    const id = message.type === 'quality' ? -1 : message.id;
    try {
      // The rows it would join could not be committed (another process holds the lock, or the database
      // is out of reach): try again later.
      if (this.pending.length > 0 && !(await this.commit())) throw this.unavailable();
      const store = this.open();
      switch (message.type) {
        case 'lookup': {
          const lookup = await store.lookup(message.keys);
          const { model, version, at, classification, requestRows } = lookup;
          const buffers = [model, version, at, classification, requestRows].map((a) => a.buffer as ArrayBuffer);
          this.post({ type: 'lookedUp', id, lookup }, buffers);
          break;
        }
        case 'feedback': {
          const result = await store.storeFeedback(message.at, message.batch);
          const qualities = result.conflicts.length > 0 || result.accepted.length === 0 ? [] : await store.qualityOf(message.batch);
          this.post({ type: 'stored', id, ...result, qualities }, [result.accepted.buffer as ArrayBuffer]);
          break;
        }
        case 'quality':
          this.post({ type: 'quality', qualities: await store.qualityOfAll(), replace: true });
          break;
      }
      this.reached();
    } catch (err) {
      this.failedToReach(err);
      if (message.type === 'quality' && this.downSince !== null) this.qualityOwed = true;
      if (message.type === 'quality') this.post({ type: 'warning', error: this.wire(err) });
      else this.post({ type: 'requestFailed', id, error: this.wire(err) });
    }
  }

  private unavailable(): Error {
    const name = this.store?.name ?? this.config.file;
    return this.downSince !== null ? errors.predictionLogDown(name) : errors.predictionLogBusy(name);
  }

  /**
   * Commits on a later turn of this thread's loop rather than per message: hand-overs that arrived
   * together (a flush() beside the timer's) share one transaction. While the database is out of
   * reach, not before the backoff's next attempt.
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      if (!this.closed) this.enqueue(async () => void (await this.commit()));
    };
    const wait = this.retryAt - Date.now();
    if (this.downSince !== null && wait > 0) setTimeout(run, wait);
    else setImmediate(run);
  }

  /** Writes every pending hand-over in one transaction and answers 'committed' or 'failed'. Returns success. */
  private async commit(): Promise<boolean> {
    const seq = this.lastSeq;
    if (this.pending.length === 0) {
      this.post({ type: 'committed', seq, rows: 0, transactions: 0, buffers: [] });
      if (this.retainDue) await this.timerRetention();
      return true;
    }
    // Hand-overs that arrive while this one is written stay pending for the next transaction.
    const messages = this.pending.slice();
    const rows = this.pendingRows;
    const registered: Layout[] = [];
    try {
      await this.open().write((sink) => {
        for (const m of messages) this.write(m, registered, sink);
      });
    } catch (err) {
      // Rolled back. Errors the store can outlive (busy, disk full, database down...) keep the rows for
      // the next attempt; anything else would fail again on the same rows: drop them rather than stall the log.
      const keep = this.store === null || this.store.keepsRows(err);
      this.failedToReach(err);
      if (!keep) this.forget(messages.length, rows);
      this.post({ type: 'failed', seq, dropped: keep ? 0 : rows, error: this.wire(err) });
      return false;
    }
    this.reached();
    // Marked only once the transaction has committed.
    for (const layout of registered) layout.registered = true;
    const buffers: ReturnedBuffers[] = messages.map((m) => ({
      meta: m.meta.buffer as ArrayBuffer,
      values: m.values.buffer as ArrayBuffer,
      labelIndex: m.labelIndex.buffer as ArrayBuffer,
    }));
    this.forget(messages.length, rows);
    this.written += rows;
    if (this.rowEstimate >= 0) this.rowEstimate += rows;
    // The buffers go back to the main thread, which fills them again: no allocation per tick.
    this.post(
      { type: 'committed', seq, rows, transactions: rows > 0 ? 1 : 0, buffers },
      buffers.flatMap((b) => [b.meta, b.values, b.labelIndex]),
    );
    if (this.retainDue) await this.timerRetention();
    return true;
  }

  /** The first `count` pending hand-overs (`rows` rows) are done with. */
  private forget(count: number, rows: number): void {
    this.pending = this.pending.slice(count);
    this.pendingRows -= rows;
  }

  /** An operation reached the database: it is up again if it was down. */
  private reached(): void {
    this.backoffMs = 0;
    if (this.downSince === null) return;
    this.downSince = null;
    this.post({ type: 'database', up: true, since: Date.now() });
    if (this.qualityOwed) {
      this.qualityOwed = false;
      this.enqueue(() => this.feedbackRequest({ type: 'quality' }));
    }
  }

  /** After an error saying the database is out of reach: back off, and tell the main thread once. */
  private failedToReach(err: unknown): void {
    if (!this.store?.unreachable(err)) return;
    const now = Date.now();
    this.backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, this.backoffMs * 2));
    this.retryAt = now + this.backoffMs;
    this.armProbe();
    if (this.downSince !== null) return;
    this.downSince = now;
    this.post({ type: 'database', up: false, since: now });
  }

  /** Tries the database again at the backoff's next attempt, whether or not rows are waiting. */
  private armProbe(): void {
    if (this.probe || this.closed) return;
    this.probe = setTimeout(
      () => {
        this.probe = null;
        this.enqueue(async () => {
          if (this.downSince === null || this.closed) return;
          try {
            await this.open().ping();
            this.reached();
          } catch (err) {
            this.failedToReach(err);
          }
        });
      },
      Math.max(0, this.retryAt - Date.now()),
    );
  }

  /**
   * Commits what is pending, waiting up to CLOSE_WAIT_MS for a database out of reach (retrying with
   * the backoff), closes the connection, sets `done` and answers 'closed' (with an error naming the
   * rows lost, which the main thread counts as dropped).
   */
  private async close(): Promise<void> {
    let error: WireError | null = null;
    const deadline = Date.now() + CLOSE_WAIT_MS;
    if (this.probe) clearTimeout(this.probe);
    try {
      if (this.pending.length > 0) {
        const rows = this.pendingRows;
        this.open().closing();
        while (!(await this.commit())) {
          const left = deadline - Date.now();
          if (this.pending.length === 0 || this.downSince === null || left <= 0) {
            const why = this.downSince !== null ? `: the database was unreachable for ${CLOSE_WAIT_MS / 1000} s` : '';
            error = { name: 'Error', message: `prediction log: ${rows} rows could not be written before closing${why}` };
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, Math.min(left, Math.max(0, this.retryAt - Date.now()))));
        }
      }
    } catch (err) {
      error = this.wire(err);
    }
    try {
      await this.store?.close();
    } catch {
      // closing never fails in a way that matters here
    }
    this.store = null;
    const done = new Int32Array(this.config.done);
    Atomics.store(done, 0, error ? 2 : 1);
    Atomics.notify(done, 0);
    this.post({ type: 'closed', error });
  }

  /** The store, opened on first use (and again after opening failed: the next attempt retries). */
  private open(): LogStore {
    this.store ??= this.config.databaseUrl
      ? new PostgresLogStore(this.config.databaseUrl, this.config.replica, this.config.qualityWindow)
      : new SqliteLogStore(this.config.file, this.config.qualityWindow);
    return this.store;
  }

  /** Runs inside the transaction: the JSON strings are built here, off the main thread. */
  private write(m: WriteMessage, registered: Layout[], sink: RowSink): void {
    const { meta, values, labelIndex, labels, requestIds } = m;
    let v = 0; // cursor in values
    let row = 0; // cursor in labelIndex
    for (let q = 0; q < m.requests; q++) {
      const o = q * META;
      const layout = this.layouts[meta[o + M_FEATURES]];
      if (!layout.registered && !registered.includes(layout)) {
        sink.fields(layout.names);
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
        sink.row(at, requestId, model, version, r, inputs, li >= 0 ? labels[li] : null, pj, latency, tj, shadow);
      }
    }
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
  private async timerRetention(): Promise<void> {
    this.retainDue = false;
    const { maxRows, maxAgeDays } = this.config;
    if ((maxRows === undefined && maxAgeDays === undefined) || this.closed) return;
    const now = Date.now();
    if (this.downSince !== null && now < this.retryAt) return; // the next write's attempt tells when it is back
    const budget = RETENTION_BUDGET + (this.written - this.writtenAtRetention);
    this.writtenAtRetention = this.written;
    try {
      const store = this.open();
      // Labels go with their predictions; the versions' windows are computed again without them.
      if ((await this.retain(store, now, budget)) > 0 && (await store.pruneOrphans()) > 0) {
        this.post({ type: 'quality', qualities: await store.qualityOfAll(), replace: true });
      }
    } catch (err) {
      this.failedToReach(err);
      this.post({ type: 'warning', error: this.wire(err) });
    }
  }

  /** Deletes at most `budget` rows beyond the limits; returns rows deleted. */
  private async retain(store: LogStore, now: number, budget: number): Promise<number> {
    const { maxRows, maxAgeDays } = this.config;
    let deleted = 0;
    if (maxAgeDays !== undefined) {
      const cutoff = now - maxAgeDays * DAY_MS;
      while (deleted < budget) {
        const changes = await store.deleteBefore(cutoff, Math.min(RETENTION_BATCH, budget - deleted));
        deleted += changes;
        if (changes < RETENTION_BATCH) break;
      }
      if (this.rowEstimate >= 0) this.rowEstimate -= deleted;
    }
    if (maxRows !== undefined && deleted < budget) {
      // The estimate (count at the last check + rows written since) only decides whether to look:
      // the exact count is taken before deleting, so that another writer's deletes are never doubled.
      if (this.rowEstimate < 0 || this.rowEstimate > maxRows) this.rowEstimate = await store.count();
      let excess = Math.min(this.rowEstimate - maxRows, budget - deleted);
      while (excess > 0) {
        const changes = await store.deleteOldest(Math.min(RETENTION_BATCH, excess));
        if (changes === 0) break;
        deleted += changes;
        excess -= changes;
        this.rowEstimate -= changes;
      }
    }
    return deleted;
  }

  /**
   * An error as it crosses to the main thread (a cloned Error keeps neither `code` nor `status`). A
   * database out of reach is named as such (503), never with its connection details.
   */
  private wire(err: unknown): WireError {
    type Loose = { name?: unknown; message?: unknown; code?: unknown; status?: unknown };
    const named = this.store?.unreachable(err) ? errors.predictionLogDown(this.store.name, err) : err;
    const e = predictionLogError(named, this.config.file) as Loose;
    const out: WireError = {
      name: typeof e?.name === 'string' ? e.name : 'Error',
      message: typeof e?.message === 'string' ? e.message : String(err),
    };
    if (typeof e?.code === 'string') out.code = e.code;
    if (typeof e?.status === 'number') out.status = e.status;
    return out;
  }
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
