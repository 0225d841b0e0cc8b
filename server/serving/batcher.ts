import type { ModelSignature } from '../../common/contract';
import type { Prediction } from '../../common/inference';
import { allocateBatch, copyRows, type InputBatch } from '../../common/tensor-layout';

export interface BatchOptions {
  /** Most rows in one session.run; a bigger request runs alone. */
  maxRows: number;
  /** How long the first request of a batch may wait for company, in ms. 0: coalesce only what
   *  arrives in the same event-loop turn or while a run is in flight (adds no waiting). */
  maxWaitMs: number;
}

interface Pending {
  batch: InputBatch;
  resolve(p: Prediction): void;
  reject(err: unknown): void;
}

/** Rows [at, at + n) of a prediction: views, no copies. */
export function slicePrediction(p: Prediction, at: number, n: number, width: number): Prediction {
  if (p.task === 'regression') return { task: 'regression', values: p.values.subarray(at * width, (at + n) * width) };
  return {
    task: 'classification',
    classes: p.classes.subarray(at, at + n),
    probabilities: p.probabilities ? p.probabilities.subarray(at * width, (at + n) * width) : null,
  };
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
  /** Values per row of the output that is sliced: class probabilities or regression targets. */
  private readonly width: number;

  constructor(
    private readonly run: (batch: InputBatch) => Promise<Prediction>,
    private readonly signature: ModelSignature,
    private readonly opts: BatchOptions,
  ) {
    this.width = signature.task === 'regression' ? signature.targets.length : signature.classLabels.length;
  }

  submit(batch: InputBatch): Promise<Prediction> {
    return new Promise<Prediction>((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.queuedRows += batch.n;
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
    const pending = this.take();
    this.running = true;
    try {
      if (pending.length === 1) {
        pending[0].resolve(await this.run(pending[0].batch));
        return;
      }
      const total = pending.reduce((s, p) => s + p.batch.n, 0);
      const joined = allocateBatch(this.signature, total);
      let at = 0;
      for (const p of pending) {
        copyRows(p.batch, joined, this.signature, at);
        at += p.batch.n;
      }
      const out = await this.run(joined);
      at = 0;
      for (const p of pending) {
        p.resolve(slicePrediction(out, at, p.batch.n, this.width));
        at += p.batch.n;
      }
    } catch (err) {
      for (const p of pending) p.reject(err);
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** The next batch: whole requests, in arrival order, up to maxRows (always at least one). */
  private take(): Pending[] {
    let rows = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || rows + this.queue[count].batch.n <= this.opts.maxRows)) {
      rows += this.queue[count].batch.n;
      count++;
    }
    this.queuedRows -= rows;
    return this.queue.splice(0, count);
  }
}
