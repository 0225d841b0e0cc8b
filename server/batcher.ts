import type { Prediction } from './inference';

export interface BatchOptions {
  /** Most rows in one session.run; a bigger request runs alone. */
  maxRows: number;
  /** How long the first request of a batch may wait for company, in ms. 0: coalesce only what
   *  arrives in the same event-loop turn or while a run is in flight (adds no waiting). */
  maxWaitMs: number;
}

interface Pending {
  rows: Float32Array;
  n: number;
  resolve(p: Prediction): void;
  reject(err: unknown): void;
}

/**
 * Micro-batching: concurrent requests are coalesced into one session.run. A run starts as soon as
 * nothing else is running (after at most maxWaitMs); requests that arrive meanwhile queue and go
 * together in the next run. Each request gets its own slice of the outputs.
 */
export class Batcher {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private running = false;
  private scheduled = false;

  constructor(
    private readonly run: (rows: Float32Array, n: number) => Promise<Prediction>,
    private readonly nFeatures: number,
    private readonly nClasses: number,
    private readonly opts: BatchOptions,
  ) {}

  submit(rows: Float32Array, n: number): Promise<Prediction> {
    return new Promise<Prediction>((resolve, reject) => {
      this.queue.push({ rows, n, resolve, reject });
      this.queuedRows += n;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      void this.flush();
    };
    // setImmediate runs after the poll phase: every request parsed in this turn joins the batch.
    if (this.opts.maxWaitMs > 0 && this.queuedRows < this.opts.maxRows) setTimeout(go, this.opts.maxWaitMs);
    else setImmediate(go);
  }

  private async flush(): Promise<void> {
    if (this.queue.length === 0) return;
    const batch = this.take();
    this.running = true;
    try {
      if (batch.length === 1) {
        batch[0].resolve(await this.run(batch[0].rows, batch[0].n));
        return;
      }
      const total = batch.reduce((s, p) => s + p.n, 0);
      const rows = new Float32Array(total * this.nFeatures);
      let at = 0;
      for (const p of batch) {
        rows.set(p.rows.subarray(0, p.n * this.nFeatures), at * this.nFeatures);
        at += p.n;
      }
      const out = await this.run(rows, total);
      at = 0;
      for (const p of batch) {
        p.resolve({
          classes: out.classes.subarray(at, at + p.n),
          probabilities: out.probabilities ? out.probabilities.subarray(at * this.nClasses, (at + p.n) * this.nClasses) : null,
        });
        at += p.n;
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** The next batch: whole requests, in arrival order, up to maxRows (always at least one). */
  private take(): Pending[] {
    let rows = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || rows + this.queue[count].n <= this.opts.maxRows)) {
      rows += this.queue[count].n;
      count++;
    }
    this.queuedRows -= rows;
    return this.queue.splice(0, count);
  }
}
