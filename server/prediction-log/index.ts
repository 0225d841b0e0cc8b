// The prediction log's writer-thread client: every input row the server answers, with its
// prediction, kept in its own SQLite file (<data dir>/predictions.sqlite) so that it can be wiped
// alone and never contends with registry writes. This module and its writer thread
// (worker.ts) are the only code that writes SQL for it; export.ts
// reads it (mlops logs export) without a writer thread, a timer or an exit hook.
//
// The main thread does no string building and no writes. record() copies a request's numbers into
// the hand-over buffer (buffer.ts: typed arrays, strings interned); every flushIntervalMs a
// timer hands the columns over to a worker thread in one postMessage whose typed arrays are
// transferred, not copied (~0.3 µs per request on the main thread). The worker owns its own
// connection: it rebuilds the rows, builds their JSON, inserts them in one transaction per hand-over,
// applies retention, answers with the counts (stats()) and sends the buffers back to be refilled.
// While a hand-over is being written the next rows keep queuing; maxQueue bounds the rows not yet
// committed (queued + in flight), beyond it rows are dropped and counted, a request never waits.
//
// PostgreSQL: with databaseUrl (MLOPS_DATABASE_URL=postgres://…) the worker writes to PostgreSQL
// instead (postgres.ts), each row naming this replica; the queue, its bound, the
// drop counting and close() are the same. While the database is out of reach the rows stay queued
// (counted against maxQueue) and the worker retries with a backoff; stats().database tells.
//
// Durability: close() resolves once the worker has committed everything recorded before it (the
// server awaits it on SIGTERM). A process that ends without close() still writes its queue: an 'exit'
// hook hands it over and blocks on a shared cell (Atomics.wait) until the worker has committed.
// A crash (SIGKILL, OOM) loses the rows not yet committed: those recorded since the last hand-over
// (at most one flush interval) plus the hand-over being written; what is on disk is always a prefix
// of whole requests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LiveQuality, PredictionLogStats } from '../../common/contract';
import { errors, MlopsError, type ErrorCode } from '../../common/errors';
import { HandOverBuffer, MAX_SPARE_BYTES, type PredictionBatch } from './buffer';
import { openSqlite } from '../../common/sqlite';
import {
  isPostgresUrl,
  MIGRATIONS,
  PREDICTIONS_DB_FILE,
  predictionLogError,
  type FeedbackBatch,
  type FeedbackConflict,
  type FeedbackKeys,
  type FeedbackLookup,
  type FromWorker,
  type ReturnedBuffers,
  type ToWorker,
  type WireError,
  type WorkerConfig,
} from './protocol';

export { PREDICTIONS_DB_FILE, type PredictionBatch, type FeedbackBatch, type FeedbackKeys, type FeedbackLookup };

/** What storing a batch of labels did: conflicts set means nothing was stored. */
export interface FeedbackStored {
  /** Indexes (FeedbackBatch.index) of the entries stored now. */
  accepted: Int32Array;
  duplicates: number;
  conflicts: FeedbackConflict[];
  /** New live quality of the versions the labels belong to. */
  qualities: LiveQuality[];
}

export interface PredictionLogOptions {
  dataDir: string;
  /**
   * postgres://… (MLOPS_DATABASE_URL): the log and its labels go to PostgreSQL instead of the data
   * dir's predictions.sqlite. Anything else (or nothing) keeps SQLite.
   */
  databaseUrl?: string;
  /** This server in PostgreSQL's `replica` column: default MLOPS_REPLICA_ID, else hostname:pid. */
  replica?: string;
  /**
   * Max rows not yet committed (queued + being written); beyond it new rows are dropped and counted
   * (never blocks a request). Default 100_000.
   */
  maxQueue?: number;
  /** Hand-over period in ms (default 200): each hand-over is written in one transaction by the worker. */
  flushIntervalMs?: number;
  /**
   * Retention: keep at most this many rows (oldest deleted), and/or rows younger than maxAgeDays. Undefined = keep all.
   * Applied by the worker after writes, at most once per second, in batches.
   */
  maxRows?: number;
  maxAgeDays?: number;
  /** Input field names never stored (personal data): removed from `inputs` before writing. */
  redact?: string[];
  /**
   * Called when a timer flush or retention fails (the rows stay queued and are retried), at most once a minute.
   * Default: process.emitWarning.
   */
  onError?: (err: unknown) => void;
  /** Labelled predictions per version that live quality is computed over (default 500). */
  qualityWindow?: number;
  /**
   * Called with versions' live quality when the writer thread computed it again: at start and after
   * retention dropped labels (`replace`: these are all the versions with labels), and after feedback.
   */
  onQuality?: (qualities: LiveQuality[], replace: boolean) => void;
}

/** How long the 'exit' hook waits for the worker's last commit (its lock wait is 5 s). */
const EXIT_WAIT_MS = 15_000;
/** After the worker died, the timer starts a new one no sooner than this. */
const RESTART_DELAY_MS = 1000;

/**
 * The writer thread's entry, next to this module. Bundled (dist/server.js, dist/cli.js) that is
 * dist/prediction-log-worker.js, an esbuild entry of its own. From sources under tsx (tests) it is
 * the .ts file, loaded through tsx's CommonJS hook: on Node 20 execArgv ['--import', 'tsx'] does not
 * work in a worker (the ESM hooks it registers are not applied to the worker's entry, nodejs/node#47747:
 * ERR_UNKNOWN_FILE_EXTENSION), ['--require', 'tsx/cjs'] does (this package is CommonJS).
 */
function workerEntry(): { file: string; execArgv?: string[] } {
  if (__filename.endsWith('.ts')) {
    return { file: path.join(__dirname, 'worker.ts'), execArgv: ['--require', require.resolve('tsx/cjs')] };
  }
  return { file: path.join(__dirname, 'prediction-log-worker.js') };
}

interface Waiter {
  /** Settled by the first answer covering this seq. */
  seq: number;
  rows: number;
  resolve: (rows: number) => void;
  reject: (err: Error) => void;
}

// Logs still open when the process exits hand their queue to the worker and wait for its commit.
const openLogs = new Set<PredictionLog>();
let exitHook = false;

export class PredictionLog {
  private readonly buffer = new HandOverBuffer();
  // The worker and what it has not answered yet.
  private worker: Worker | null = null;
  private workerError: Error | null = null;
  private workerRefd = false;
  private diedAt = -Infinity;
  /** Last seq posted ('write' or 'retry') and last seq answered ('committed' or 'failed'). */
  private seq = 0;
  private answered = 0;
  private inFlight: { seq: number; rows: number }[] = [];
  /** Rows handed over, not yet committed. */
  private inFlightRows = 0;
  private waiters: Waiter[] = [];
  private readonly spares: ReturnedBuffers[] = [];
  private closeWaiter: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private closeSent = false;
  private closing: Promise<void> | null = null;
  /** Int32[1] the worker sets when it has handled 'close' (1 done, 2 failed). */
  private readonly done = new SharedArrayBuffer(4);
  private written = 0;
  private dropped = 0;
  private flushes = 0;
  private closed = false;
  private lastErrorReport = -Infinity;
  private lastRetention = 0;
  private readonly timer: NodeJS.Timeout;
  /** The writer's database: reachable or not since when (epoch ms; the open time until it first failed). */
  private database: { up: boolean; since: number } = { up: true, since: Date.now() };
  /** Feedback requests sent to the worker, by id, until answered. */
  private readonly requests = new Map<number, { resolve: (value: never) => void; reject: (err: Error) => void }>();
  private nextRequest = 0;
  private qualityAsked = false;

  private constructor(
    private readonly file: string,
    private readonly databaseUrl: string | null,
    private readonly replica: string,
    private readonly maxQueue: number,
    private readonly maxRows: number | undefined,
    private readonly maxAgeDays: number | undefined,
    private readonly redact: string[],
    private readonly onError: (err: unknown) => void,
    flushIntervalMs: number,
    private readonly qualityWindow: number,
    private readonly onQuality: (qualities: LiveQuality[], replace: boolean) => void,
  ) {
    this.timer = setInterval(() => this.tick(), flushIntervalMs);
    this.timer.unref();
  }

  /**
   * Creates the directory, the database and its schema, starts the writer thread (it is ready by the
   * first hand-over: ~50-100 ms to start) and the hand-over timer (both unref'd).
   */
  static open(opts: PredictionLogOptions): PredictionLog {
    const maxQueue = opts.maxQueue ?? 100_000;
    const flushIntervalMs = opts.flushIntervalMs ?? 200;
    if (!(maxQueue >= 0)) throw new RangeError(`maxQueue must be ≥ 0, got ${maxQueue}`);
    if (!(flushIntervalMs > 0)) throw new RangeError(`flushIntervalMs must be > 0, got ${flushIntervalMs}`);
    if (opts.maxRows !== undefined && !(opts.maxRows >= 0)) throw new RangeError(`maxRows must be ≥ 0, got ${opts.maxRows}`);
    if (opts.maxAgeDays !== undefined && !(opts.maxAgeDays > 0)) throw new RangeError(`maxAgeDays must be > 0, got ${opts.maxAgeDays}`);
    const qualityWindow = opts.qualityWindow ?? 500;
    if (!(qualityWindow >= 1)) throw new RangeError(`qualityWindow must be ≥ 1, got ${qualityWindow}`);
    const entry = workerEntry().file;
    if (!fs.existsSync(entry)) throw errors.writerMissing(entry);
    const file = path.join(opts.dataDir, PREDICTIONS_DB_FILE);
    const databaseUrl = isPostgresUrl(opts.databaseUrl) ? opts.databaseUrl : null;
    // PostgreSQL: the worker creates the schema on its first connection (a database down at start
    // must not stop the server: rows queue until it is back).
    // SQLite: schema and WAL here, synchronously, so that open() fails at once on a bad or locked file; the
    // worker's connection finds them done. synchronous NORMAL (openSqlite): a committed hand-over
    // survives a SIGKILL; FULL would fsync on every one for no gain here.
    if (!databaseUrl) {
      try {
        openSqlite(file, MIGRATIONS, errors.predictionLogBusy).close();
      } catch (err) {
        throw predictionLogError(err, file);
      }
    }
    const log = new PredictionLog(
      file,
      databaseUrl,
      opts.replica ?? (process.env.MLOPS_REPLICA_ID || `${os.hostname()}:${process.pid}`),
      maxQueue,
      opts.maxRows,
      opts.maxAgeDays,
      opts.redact ?? [],
      opts.onError ?? warn,
      flushIntervalMs,
      qualityWindow,
      opts.onQuality ?? (() => {}),
    );
    try {
      // The windows of the labels already stored: live quality survives a restart.
      if (opts.onQuality) {
        log.post({ type: 'quality' });
        log.qualityAsked = true;
      } else log.ensureWorker();
    } catch (err) {
      clearInterval(log.timer);
      throw err;
    }
    openLogs.add(log);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => PredictionLog.closeAllOnExit());
    }
    return log;
  }

  /**
   * Queues one request's rows into the hand-over buffer; O(rows), no string building, no I/O. The
   * caller may reuse its buffers. Returns false if (some) rows were dropped because maxQueue rows are
   * already waiting to be committed.
   */
  record(batch: PredictionBatch): boolean {
    const n = batch.n ?? batch.labels?.length ?? 0;
    if (n === 0) return true;
    if (batch.labels ? batch.labels.length < n : !batch.values) throw new RangeError(`prediction log: no label nor value for ${n} rows`);
    if (batch.values && batch.values.length < n * (batch.nTargets ?? 1)) {
      throw new RangeError(`prediction log: ${batch.values.length} values for ${n} rows of ${batch.nTargets ?? 1} targets`);
    }
    const f = batch.features.length;
    if (batch.rows.length < n * f) throw new RangeError(`prediction log: ${batch.rows.length} input values for ${n} rows of ${f} features`);
    const probs = batch.probabilities;
    if (probs && probs.length < n * batch.nClasses) {
      throw new RangeError(`prediction log: ${probs.length} probabilities for ${n} rows of ${batch.nClasses} classes`);
    }
    const room = this.closed ? 0 : this.maxQueue - this.buffer.rows - this.inFlightRows;
    if (room <= 0) {
      this.dropped += n;
      return false;
    }
    // When only part fits, the first rows are kept (row_index tells which): rows are never lost silently.
    const k = n <= room ? n : room;
    this.buffer.add(batch, k);
    if (k < n) {
      this.dropped += n - k;
      return false;
    }
    return true;
  }

  /**
   * Hands everything queued now to the worker; resolves with the rows handed over once they (and
   * everything handed over before) are committed, or rejects if that commit failed (the rows stay
   * queued and are retried by the timer).
   */
  flush(): Promise<number> {
    const rows = this.buffer.rows;
    if (rows > 0) this.handOver();
    else if (this.inFlightRows === 0) return Promise.resolve(0);
    else if (this.answered === this.seq) this.post({ type: 'retry', seq: ++this.seq, retain: false });
    const flushed = new Promise<number>((resolve, reject) => this.waiters.push({ seq: this.seq, rows, resolve, reject }));
    this.refWorker();
    return flushed;
  }

  /**
   * Hands over what is queued, waits until the worker has committed everything (waiting up to 5 s
   * for another writer's lock) and closes; idempotent. Rejects if the last rows could not be written.
   * Rows recorded after close() are dropped and counted.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /**
   * The logged predictions each key labels (what was recorded before this call included: the queue is
   * handed over first and the writer commits it before looking). Runs on the writer thread.
   */
  lookupFeedback(keys: FeedbackKeys): Promise<FeedbackLookup> {
    return this.request<FeedbackLookup>((id) => ({ type: 'lookup', id, keys }), [keys.rows.buffer as ArrayBuffer]);
  }

  /** Stores labels in one transaction on the writer thread: all of them, or none when one conflicts with a stored label. */
  storeFeedback(at: number, batch: FeedbackBatch): Promise<FeedbackStored> {
    const transfer = [batch.index, batch.rows, batch.values, batch.predictionAt].map((a) => a.buffer as ArrayBuffer);
    return this.request<FeedbackStored>((id) => ({ type: 'feedback', id, at, batch }), transfer);
  }

  /** Posts a request to the worker; `transfer`: the typed arrays' buffers, moved rather than copied (the caller lets them go). */
  private request<T>(message: (id: number) => ToWorker, transfer: ArrayBuffer[]): Promise<T> {
    if (this.closed) return Promise.reject(errors.predictionLogOff('feedback'));
    if (this.buffer.rows > 0) this.handOver();
    const id = ++this.nextRequest;
    const answer = new Promise<T>((resolve, reject) => this.requests.set(id, { resolve: resolve as (v: never) => void, reject }));
    try {
      this.ensureWorker().postMessage(message(id), transfer);
    } catch (err) {
      this.requests.delete(id);
      return Promise.reject(err as Error);
    }
    this.refWorker();
    return answer;
  }

  private answer(id: number, value: unknown, error?: WireError): void {
    const waiter = this.requests.get(id);
    if (!waiter) return;
    this.requests.delete(id);
    if (error) waiter.reject(fromWire(error));
    else waiter.resolve(value as never);
  }

  /**
   * Rows are counted, not requests. `queued` is every row not yet committed; `flushes` counts
   * transactions that wrote at least one row. With PostgreSQL, `database` tells whether the writer
   * reaches it (a local SQLite file is never out of reach: no such field).
   */
  stats(): PredictionLogStats {
    const queued = this.buffer.rows + this.inFlightRows;
    const stats: PredictionLogStats = { enabled: true, queued, written: this.written, dropped: this.dropped, flushes: this.flushes };
    if (!this.databaseUrl) return stats;
    return { ...stats, database: this.database.up ? 'ok' : 'unreachable', databaseSince: this.database.since };
  }

  private tick(): void {
    // The last hand-over is still being written: rows keep queuing (bounded by maxQueue) and go
    // together in the next one. One hand-over at a time keeps memory bounded and transactions large.
    if (this.answered < this.seq) return;
    const now = Date.now();
    if (!this.worker && now - this.diedAt < RESTART_DELAY_MS) return;
    // Retention runs after the tick's commit, at most once a second, in the worker.
    const retain = this.retention() && now - this.lastRetention >= 1000;
    if (retain) this.lastRetention = now;
    if (this.buffer.rows > 0) this.handOver(retain);
    else if (this.inFlightRows > 0)
      this.post({ type: 'retry', seq: ++this.seq, retain }); // an earlier commit failed
    else if (retain) this.post({ type: 'retention' });
  }

  /** Posts the queued rows to the worker, their buffers transferred, and starts a new hand-over. */
  private handOver(retain = false): void {
    const worker = this.ensureWorker();
    const seq = ++this.seq;
    const message = this.buffer.take(seq, retain, this.spares.pop());
    try {
      const transfer = [message.meta.buffer, message.values.buffer, message.labelIndex.buffer] as ArrayBuffer[];
      worker.postMessage(message, transfer);
      this.inFlight.push({ seq, rows: message.rows });
      this.inFlightRows += message.rows;
    } catch (err) {
      // Not expected (record() passes only strings and numbers): the rows are lost, and counted.
      this.buffer.unsend(message);
      this.answered = seq;
      this.dropped += message.rows;
      this.report(err);
    }
  }

  private post(message: ToWorker): void {
    this.ensureWorker().postMessage(message);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const { file, execArgv } = workerEntry();
    const workerData: WorkerConfig = {
      file: this.file,
      databaseUrl: this.databaseUrl,
      replica: this.replica,
      redact: this.redact,
      maxRows: this.maxRows,
      maxAgeDays: this.maxAgeDays,
      qualityWindow: this.qualityWindow,
      done: this.done,
    };
    const worker = new Worker(file, { workerData, ...(execArgv ? { execArgv } : {}) });
    worker.on('message', (message: FromWorker) => {
      if (worker === this.worker) this.onMessage(message);
    });
    worker.on('error', (err) => {
      if (worker === this.worker) this.workerError = err;
    });
    worker.on('exit', (code) => {
      if (worker === this.worker) this.onExit(code);
    });
    // Never keeps the process alive: close() or the 'exit' hook waits for it instead. After the
    // listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    this.workerRefd = false;
    this.worker = worker;
    this.workerError = null;
    this.buffer.forgetSent();
    return worker;
  }

  /**
   * The worker is unref'd (a timer hand-over in flight never keeps the process alive: the 'exit' hook
   * takes care of it) except while a caller awaits it: flush(), close().
   */
  private refWorker(): void {
    const wanted = this.waiters.length > 0 || this.closeWaiter !== null || this.requests.size > 0;
    if (this.worker && wanted !== this.workerRefd) {
      if (wanted) this.worker.ref();
      else this.worker.unref();
      this.workerRefd = wanted;
    }
  }

  private onMessage(m: FromWorker): void {
    this.handle(m);
    this.refWorker();
  }

  private handle(m: FromWorker): void {
    switch (m.type) {
      case 'committed': {
        this.answered = Math.max(this.answered, m.seq);
        this.settle(m.seq);
        this.written += m.rows;
        this.flushes += m.transactions;
        for (const b of m.buffers) if (this.spares.length < 2 && b.values.byteLength <= MAX_SPARE_BYTES) this.spares.push(b);
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters) {
          if (w.seq <= m.seq) w.resolve(w.rows);
          else this.waiters.push(w);
        }
        break;
      }
      case 'failed': {
        this.answered = Math.max(this.answered, m.seq);
        if (m.dropped > 0) {
          this.settle(m.seq);
          this.dropped += m.dropped;
        }
        const err = fromWire(m.error);
        const waiters = this.waiters;
        this.waiters = [];
        let told = false;
        for (const w of waiters) {
          if (w.seq <= m.seq) {
            w.reject(err);
            told = true;
          } else this.waiters.push(w);
        }
        if (!told) this.report(err); // a timer hand-over: nobody else hears of it
        break;
      }
      case 'warning':
        this.report(fromWire(m.error));
        break;
      case 'database':
        this.database = { up: m.up, since: m.since };
        break;
      case 'lookedUp':
        this.answer(m.id, m.lookup);
        break;
      case 'stored': {
        const { accepted, duplicates, conflicts, qualities } = m;
        if (qualities.length > 0) this.onQuality(qualities, false);
        this.answer(m.id, { accepted, duplicates, conflicts, qualities } satisfies FeedbackStored);
        break;
      }
      case 'requestFailed':
        this.answer(m.id, null, m.error);
        break;
      case 'quality':
        this.onQuality(m.qualities, m.replace);
        break;
      case 'closed':
        if (m.error) {
          this.dropped += this.inFlightRows;
          this.settle(Infinity);
          this.closeWaiter?.reject(fromWire(m.error));
        } else this.closeWaiter?.resolve();
        this.closeWaiter = null;
        break;
    }
  }

  /** Hand-overs up to `seq` are no longer in flight. */
  private settle(seq: number): void {
    let i = 0;
    while (i < this.inFlight.length && this.inFlight[i].seq <= seq) this.inFlightRows -= this.inFlight[i++].rows;
    if (i > 0) this.inFlight.splice(0, i);
  }

  /** The worker died (a bug, or out of memory): what it held is lost and counted; the timer starts another. */
  private onExit(code: number): void {
    const lost = this.inFlightRows;
    const err = this.workerError ?? errors.writerExited(code, lost);
    this.worker = null;
    this.diedAt = Date.now();
    this.dropped += lost;
    this.settle(Infinity);
    this.answered = this.seq;
    for (const w of this.waiters.splice(0)) w.reject(err);
    for (const r of this.requests.values()) r.reject(err);
    this.requests.clear();
    this.spares.length = 0;
    if (this.closeWaiter) {
      this.closeWaiter.reject(err);
      this.closeWaiter = null;
    } else if (!this.closed) this.report(err);
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    try {
      if (this.buffer.rows > 0) this.handOver();
      // A worker that never wrote has nothing to commit nor close.
      if (this.worker && this.wrote()) {
        const worker = this.worker;
        const closed = new Promise<void>((resolve, reject) => (this.closeWaiter = { resolve, reject }));
        this.refWorker();
        worker.postMessage({ type: 'close' } satisfies ToWorker);
        this.closeSent = true;
        await closed;
      }
    } finally {
      openLogs.delete(this);
      const worker = this.worker;
      this.worker = null;
      if (worker) await worker.terminate();
      for (const r of this.requests.values()) r.reject(errors.predictionLogOff('feedback'));
      this.requests.clear();
    }
  }

  /**
   * In process 'exit' there is no event loop left to hear the worker: hand the queue over, ask it to
   * close, and block on the shared cell until it has committed (worker threads run until the process
   * is torn down, after the 'exit' listeners).
   */
  private static closeAllOnExit(): void {
    for (const log of [...openLogs]) {
      openLogs.delete(log);
      log.closed = true;
      clearInterval(log.timer);
      try {
        if (log.buffer.rows > 0) log.handOver();
        if (log.worker && (log.inFlightRows > 0 || log.closeSent)) {
          if (!log.closeSent) log.worker.postMessage({ type: 'close' } satisfies ToWorker);
          log.closeSent = true;
          const done = new Int32Array(log.done);
          const waited = Atomics.wait(done, 0, 0, EXIT_WAIT_MS);
          if (waited === 'timed-out' || Atomics.load(done, 0) !== 1) {
            const outcome = waited === 'timed-out' ? 'timed out' : 'failed';
            fs.writeSync(2, `prediction log: final flush ${outcome}; up to ${log.inFlightRows} rows may be missing\n`);
          }
        }
      } catch (err) {
        fs.writeSync(2, `prediction log: final flush failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  }

  private retention(): boolean {
    return this.maxRows !== undefined || this.maxAgeDays !== undefined;
  }

  /** Whether the worker may have opened its connection: it wrote, retention ran, or feedback was asked for. */
  private wrote(): boolean {
    return this.seq > 0 || this.retention() || this.nextRequest > 0 || this.qualityAsked;
  }

  private report(err: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorReport >= 60_000) {
      this.lastErrorReport = now;
      this.onError(err);
    }
  }
}

/** The worker's error as an Error again (MlopsError keeps its code and status). */
function fromWire(e: WireError): Error {
  if (e.name === 'MlopsError' && e.code) return new MlopsError(e.code as ErrorCode, e.message, e.status);
  const err = new Error(e.message) as Error & { code?: string };
  if (e.name !== 'Error') err.name = e.name;
  if (e.code) err.code = e.code;
  return err;
}

function warn(err: unknown): void {
  process.emitWarning(`prediction log: ${err instanceof Error ? err.message : String(err)}`);
}
