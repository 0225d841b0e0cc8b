// The prediction log: every input row the server answers, with its prediction, kept in its own
// SQLite file (<data dir>/predictions.sqlite) so that it can be wiped alone and never contends with
// registry writes. This module and its writer thread (prediction-log-worker.ts) are the only code
// that writes SQL for it.
//
// The main thread does no string building and no writes. record() copies a request's numbers into
// columnar typed arrays (and its strings into plain arrays, labels interned); every flushIntervalMs a
// timer hands the columns over to a worker thread in one postMessage whose typed arrays are
// transferred, not copied (~0.3 µs per request on the main thread). The worker owns its own
// connection: it rebuilds the rows, builds their JSON, inserts them in one transaction per hand-over,
// applies retention, answers with the counts (stats()) and sends the buffers back to be refilled.
// While a hand-over is being written the next rows keep queuing; maxQueue bounds the rows not yet
// committed (queued + in flight), beyond it rows are dropped and counted, a request never waits.
//
// Durability: close() resolves once the worker has committed everything recorded before it (the
// server awaits it on SIGTERM). A process that ends without close() still writes its queue: an 'exit'
// hook hands it over and blocks on a shared cell (Atomics.wait) until the worker has committed.
// A crash (SIGKILL, OOM) loses the rows not yet committed: those recorded since the last hand-over
// (at most one flush interval) plus the hand-over being written; what is on disk is always a prefix
// of whole requests.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { PredictionLogEntry, PredictionLogStats } from '../common/contract';
import { MlopsError, type ErrorCode } from '../common/errors';
import { openSqlite, translateSqliteError } from '../common/sqlite';
import {
  F_PROBS_F32,
  F_ROWS_F32,
  M_AT,
  M_CLASSES,
  M_FEATURES,
  M_FLAGS,
  M_LATENCY,
  M_MODEL,
  M_ROWS,
  M_VERSION,
  META,
  MIGRATIONS,
  PREDICTIONS_DB_FILE,
  type FromWorker,
  type ReturnedBuffers,
  type ToWorker,
  type WireError,
  type WorkerConfig,
  type WriteMessage,
} from './prediction-log-protocol';

export { PREDICTIONS_DB_FILE };

export interface PredictionLogOptions {
  dataDir: string;
  /** Max rows not yet committed (queued + being written); beyond it new rows are dropped and counted (never blocks a request). Default 100_000. */
  maxQueue?: number;
  /** Hand-over period in ms (default 200): each hand-over is written in one transaction by the worker. */
  flushIntervalMs?: number;
  /** Retention: keep at most this many rows (oldest deleted), and/or rows younger than maxAgeDays. Undefined = keep all. Applied by the worker after writes, at most once per second, in batches. */
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

/** Returned buffers larger than this are let go rather than refilled (a backlog's memory is given back). */
const MAX_SPARE_BYTES = 16 << 20;
/** How long the 'exit' hook waits for the worker's last commit (its lock wait is 5 s). */
const EXIT_WAIT_MS = 15_000;
/** record() looks a row's label up among this many of the hand-over's first labels before its map. */
const LABEL_SCAN = 8;
/** After the worker died, the timer starts a new one no sooner than this. */
const RESTART_DELAY_MS = 1000;
/** Export writes are grouped into chunks of about this many characters. */
const EXPORT_CHUNK = 64 * 1024;
const CSV_FIXED = ['at', 'request_id', 'model', 'version', 'label', 'probabilities', 'latency_ms'];

/**
 * The writer thread's entry, next to this module. Bundled (dist/server.js, dist/cli.js) that is
 * dist/prediction-log-worker.js, an esbuild entry of its own. From sources under tsx (tests) it is
 * the .ts file, loaded through tsx's CommonJS hook: on Node 20 execArgv ['--import', 'tsx'] does not
 * work in a worker (the ESM hooks it registers are not applied to the worker's entry, nodejs/node#47747:
 * ERR_UNKNOWN_FILE_EXTENSION), ['--require', 'tsx/cjs'] does (this package is CommonJS).
 */
function workerEntry(): { file: string; execArgv?: string[] } {
  if (__filename.endsWith('.ts')) {
    return { file: path.join(__dirname, 'prediction-log-worker.ts'), execArgv: ['--require', require.resolve('tsx/cjs')] };
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
  // The hand-over being filled by record(), see prediction-log-protocol.ts.
  private meta = new Float64Array(256 * META);
  private values = new Float64Array(4096);
  private labelIndex = new Int32Array(1024);
  private requestIds: string[] = [];
  private labels: string[] = [];
  private labelIds = new Map<string, number>();
  private requests = 0;
  /** Rows recorded, not yet handed over. */
  private rows = 0;
  private used = 0;
  // Feature lists and model names, interned for the life of the log; the worker gets each once.
  private readonly featureSets: string[][] = [];
  private readonly featureIds = new Map<string, number>();
  private lastFeatures: string[] | null = null;
  private lastFeaturesId = -1;
  private readonly models: string[] = [];
  private readonly modelIds = new Map<string, number>();
  private lastModel: string | null = null;
  private lastModelId = -1;
  private sentFeatureSets = 0;
  private sentModels = 0;
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
  private readonly retentions = new Map<number, { resolve: (deleted: number) => void; reject: (err: Error) => void }>();
  private retentionId = 0;
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

  private constructor(
    /** Reads only (read()); the worker has its own connection for writes. */
    private readonly db: Database.Database,
    readonly file: string,
    private readonly maxQueue: number,
    private readonly maxRows: number | undefined,
    private readonly maxAgeDays: number | undefined,
    private readonly redact: string[],
    private readonly onError: (err: unknown) => void,
    flushIntervalMs: number,
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
    const entry = workerEntry().file;
    if (!fs.existsSync(entry)) throw new Error(`prediction log: its writer thread ${entry} is missing (run npm run build)`);
    fs.mkdirSync(opts.dataDir, { recursive: true });
    const file = path.join(opts.dataDir, PREDICTIONS_DB_FILE);
    let db: Database.Database | undefined;
    let log: PredictionLog;
    try {
      // Schema and WAL here, synchronously, so that open() fails as before on a bad file; the worker's
      // connection finds them done. synchronous NORMAL (openSqlite): a committed hand-over survives a
      // SIGKILL; FULL would fsync on every one for no gain here.
      db = openSqlite(file, MIGRATIONS);
      log = new PredictionLog(db, file, maxQueue, opts.maxRows, opts.maxAgeDays, opts.redact ?? [], opts.onError ?? warn, flushIntervalMs);
    } catch (err) {
      db?.close();
      throw translateSqliteError(err, file);
    }
    try {
      log.ensureWorker();
    } catch (err) {
      clearInterval(log.timer);
      db.close();
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
   * Queues one request's rows: copies its numbers into the hand-over's typed arrays; O(rows), no
   * string building, no I/O. The caller may reuse its buffers. Returns false if (some) rows were
   * dropped because maxQueue rows are already waiting to be committed.
   */
  record(batch: PredictionBatch): boolean {
    const n = batch.labels.length;
    if (n === 0) return true;
    const f = batch.features.length;
    if (batch.rows.length < n * f) throw new RangeError(`prediction log: ${batch.rows.length} input values for ${n} rows of ${f} features`);
    const probs = batch.probabilities;
    if (probs && probs.length < n * batch.nClasses) {
      throw new RangeError(`prediction log: ${probs.length} probabilities for ${n} rows of ${batch.nClasses} classes`);
    }
    const room = this.closed ? 0 : this.maxQueue - this.rows - this.inFlightRows;
    if (room <= 0) {
      this.dropped += n;
      return false;
    }
    // When only part fits, the first rows are kept (row_index tells which): rows are never lost silently.
    const k = n <= room ? n : room;
    const c = probs ? batch.nClasses : -1;
    const o = this.requests * META;
    if (o + META > this.meta.length) this.meta = grow(this.meta, o + META);
    const m = this.meta;
    m[o + M_AT] = batch.at;
    m[o + M_VERSION] = batch.version;
    m[o + M_LATENCY] = batch.latencyMs;
    m[o + M_ROWS] = k;
    m[o + M_FEATURES] = this.featureSetId(batch.features);
    m[o + M_CLASSES] = c;
    m[o + M_FLAGS] = (batch.rows instanceof Float32Array ? F_ROWS_F32 : 0) | (probs instanceof Float32Array ? F_PROBS_F32 : 0);
    m[o + M_MODEL] = this.modelId(batch.model);
    // Strings are checked here: anything postMessage could not clone would lose the whole hand-over.
    this.requestIds.push(typeof batch.requestId === 'string' ? batch.requestId : String(batch.requestId));
    this.requests++;
    this.copy(batch.rows, k * f);
    if (probs) this.copy(probs, k * c);
    if (this.rows + k > this.labelIndex.length) this.labelIndex = grow(this.labelIndex, this.rows + k);
    // Labels are interned per hand-over (a scan of the first few, usually the classes: ~5 ns a row,
    // cheaper than cloning a string per row in postMessage).
    const li = this.labelIndex;
    const labels = batch.labels;
    const known = this.labels;
    for (let r = 0, at = this.rows; r < k; r++, at++) {
      const label = labels[r];
      const scan = known.length < LABEL_SCAN ? known.length : LABEL_SCAN;
      let id = -1;
      for (let i = 0; i < scan; i++) {
        if (known[i] === label) {
          id = i;
          break;
        }
      }
      li[at] = id >= 0 ? id : this.labelId(label);
    }
    this.rows += k;
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
    const rows = this.rows;
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

  /** Rows are counted, not requests. `queued` is every row not yet committed; `flushes` counts transactions that wrote at least one row. */
  stats(): PredictionLogStats {
    return { enabled: true, queued: this.rows + this.inFlightRows, written: this.written, dropped: this.dropped, flushes: this.flushes };
  }

  /** Reads committed rows back, oldest first (by time, then insertion). Rows not yet committed are not included. */
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
   * snapshot on a connection of its own (an open iterator would make read() fail on this one while it runs), with
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

  /** Applies retention now (in the worker, after the hand-overs before it); resolves with rows deleted. */
  applyRetention(now: number = Date.now()): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    const worker = this.ensureWorker();
    const id = ++this.retentionId;
    const retained = new Promise<number>((resolve, reject) => {
      this.retentions.set(id, { resolve, reject });
      worker.postMessage({ type: 'retain', id, now } satisfies ToWorker);
    });
    this.refWorker();
    return retained;
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
    if (this.rows > 0) this.handOver(retain);
    else if (this.inFlightRows > 0) this.post({ type: 'retry', seq: ++this.seq, retain }); // an earlier commit failed
    else if (retain) this.post({ type: 'retention' });
  }

  /** Posts the queued rows to the worker, their buffers transferred, and starts a new hand-over. */
  private handOver(retain = false): void {
    const worker = this.ensureWorker();
    const seq = ++this.seq;
    const { meta, values, labelIndex, rows } = this;
    const message: WriteMessage = {
      type: 'write',
      seq,
      requests: this.requests,
      rows,
      meta,
      values,
      labelIndex,
      labels: this.labels,
      requestIds: this.requestIds,
      featureSets: this.featureSets.slice(this.sentFeatureSets),
      models: this.models.slice(this.sentModels),
      retain,
    };
    try {
      worker.postMessage(message, [meta.buffer, values.buffer, labelIndex.buffer]);
      this.sentFeatureSets = this.featureSets.length;
      this.sentModels = this.models.length;
      this.inFlight.push({ seq, rows });
      this.inFlightRows += rows;
    } catch (err) {
      // Not expected (record() passes only strings and numbers): the rows are lost, and counted.
      this.answered = seq;
      this.dropped += rows;
      this.report(err);
    }
    // Refill buffers the worker sent back; else new ones of the size just needed (within reason).
    const spare = this.spares.pop();
    const cap = MAX_SPARE_BYTES / 8;
    this.meta = spare ? new Float64Array(spare.meta) : new Float64Array(Math.min(meta.length, cap));
    this.values = spare ? new Float64Array(spare.values) : new Float64Array(Math.min(values.length, cap));
    this.labelIndex = spare ? new Int32Array(spare.labelIndex) : new Int32Array(Math.min(labelIndex.length, cap));
    this.requestIds = [];
    this.labels = [];
    this.labelIds.clear();
    this.requests = 0;
    this.rows = 0;
    this.used = 0;
  }

  private post(message: ToWorker): void {
    this.ensureWorker().postMessage(message);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const { file, execArgv } = workerEntry();
    const workerData: WorkerConfig = { file: this.file, redact: this.redact, maxRows: this.maxRows, maxAgeDays: this.maxAgeDays, done: this.done };
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
    // A new worker knows no feature list nor model name yet.
    this.sentFeatureSets = 0;
    this.sentModels = 0;
    return worker;
  }

  /**
   * The worker is unref'd (a timer hand-over in flight never keeps the process alive: the 'exit' hook
   * takes care of it) except while a caller awaits it: flush(), applyRetention(), close().
   */
  private refWorker(): void {
    const wanted = this.waiters.length > 0 || this.retentions.size > 0 || this.closeWaiter !== null;
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
      case 'retained':
        this.retentions.get(m.id)?.resolve(m.deleted);
        this.retentions.delete(m.id);
        break;
      case 'retainFailed':
        this.retentions.get(m.id)?.reject(fromWire(m.error));
        this.retentions.delete(m.id);
        break;
      case 'warning':
        this.report(fromWire(m.error));
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
    const err =
      this.workerError ??
      new Error(`prediction log: the writer thread exited with code ${code}${lost ? `; ${lost} rows not written` : ''}`);
    this.worker = null;
    this.diedAt = Date.now();
    this.dropped += lost;
    this.settle(Infinity);
    this.answered = this.seq;
    for (const w of this.waiters.splice(0)) w.reject(err);
    for (const r of this.retentions.values()) r.reject(err);
    this.retentions.clear();
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
      if (this.rows > 0) this.handOver();
      // A worker that never wrote (a log opened to read or export) has nothing to commit nor close.
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
      if (this.db.open) this.db.close();
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
        if (log.rows > 0) log.handOver();
        if (log.worker && (log.inFlightRows > 0 || log.closeSent)) {
          if (!log.closeSent) log.worker.postMessage({ type: 'close' } satisfies ToWorker);
          log.closeSent = true;
          const done = new Int32Array(log.done);
          const waited = Atomics.wait(done, 0, 0, EXIT_WAIT_MS);
          if (waited === 'timed-out' || Atomics.load(done, 0) !== 1) {
            fs.writeSync(2, `prediction log: final flush ${waited === 'timed-out' ? 'timed out' : 'failed'}; up to ${log.inFlightRows} rows may be missing\n`);
          }
        }
      } catch (err) {
        fs.writeSync(2, `prediction log: final flush failed: ${err instanceof Error ? err.message : String(err)}\n`);
      } finally {
        if (log.db.open) log.db.close();
      }
    }
  }

  private retention(): boolean {
    return this.maxRows !== undefined || this.maxAgeDays !== undefined;
  }

  /** Whether the worker may have opened its connection: it wrote, or retention ran. */
  private wrote(): boolean {
    return this.seq > 0 || this.retentionId > 0 || this.retention();
  }

  private report(err: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorReport >= 60_000) {
      this.lastErrorReport = now;
      this.onError(err);
    }
  }

  /** Appends the first `length` values to the hand-over's numbers. */
  private copy(values: ArrayLike<number>, length: number): void {
    const at = this.used;
    if (at + length > this.values.length) this.values = grow(this.values, at + length);
    if (values.length === length) this.values.set(values, at);
    else for (let i = 0; i < length; i++) this.values[at + i] = values[i];
    this.used = at + length;
  }

  private labelId(label: unknown): number {
    const s = typeof label === 'string' ? label : String(label ?? '');
    let id = this.labelIds.get(s);
    if (id === undefined) {
      id = this.labels.length;
      this.labels.push(s);
      this.labelIds.set(s, id);
    }
    return id;
  }

  private featureSetId(features: string[]): number {
    if (features === this.lastFeatures) return this.lastFeaturesId;
    const names = Array.from(features, (name) => String(name));
    const key = names.join('\u0000');
    let id = this.featureIds.get(key);
    if (id === undefined) {
      id = this.featureSets.length;
      this.featureSets.push(names);
      this.featureIds.set(key, id);
    }
    this.lastFeatures = features;
    this.lastFeaturesId = id;
    return id;
  }

  private modelId(model: string): number {
    if (model === this.lastModel) return this.lastModelId;
    const name = typeof model === 'string' ? model : String(model);
    let id = this.modelIds.get(name);
    if (id === undefined) {
      id = this.models.length;
      this.models.push(name);
      this.modelIds.set(name, id);
    }
    this.lastModel = model;
    this.lastModelId = id;
    return id;
  }
}

function grow<T extends Float64Array | Int32Array>(array: T, needed: number): T {
  const grown = new (array.constructor as new (length: number) => T)(Math.max(array.length * 2, needed));
  grown.set(array);
  return grown;
}

/** The worker's error as an Error again (MlopsError keeps its code and status). */
function fromWire(e: WireError): Error {
  if (e.name === 'MlopsError' && e.code) return new MlopsError(e.code as ErrorCode, e.message, e.status);
  const err = new Error(e.message) as Error & { code?: string };
  if (e.name !== 'Error') err.name = e.name;
  if (e.code) err.code = e.code;
  return err;
}

type RawRow = [number, string, string, number, string, string, string | null, number];
const SELECT = 'SELECT at, request_id, model, version, inputs, label, probabilities, latency_ms FROM predictions';

function warn(err: unknown): void {
  process.emitWarning(`prediction log: ${err instanceof Error ? err.message : String(err)}`);
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
