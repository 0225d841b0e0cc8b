import type { ServingStats } from '../../common/contract';

const MAX_SAMPLES = 4096;

/** Per-second figures for the event stream and the status bar: rates and latency percentiles. */
export class ServingStatsCollector {
  private requests = 0;
  private errors = 0;
  private rows = 0;
  private samples = new Float64Array(MAX_SAMPLES);
  private sampleCount = 0;
  private seen = 0;
  private totalRequests = 0;
  private totalErrors = 0;
  private lastTick = performance.now();
  readonly byClass: Record<string, number> = {};

  request(latencyMs: number, ok: boolean, rows = 0): void {
    this.requests++;
    this.totalRequests++;
    this.rows += rows;
    if (!ok) {
      this.errors++;
      this.totalErrors++;
    }
    // Reservoir sampling keeps percentiles honest past MAX_SAMPLES requests a second.
    this.seen++;
    if (this.sampleCount < MAX_SAMPLES) this.samples[this.sampleCount++] = latencyMs;
    else {
      const j = Math.floor(Math.random() * this.seen);
      if (j < MAX_SAMPLES) this.samples[j] = latencyMs;
    }
  }

  predicted(label: string, count: number): void {
    this.byClass[label] = (this.byClass[label] ?? 0) + count;
  }

  /** Figures since the previous tick, then a fresh second. */
  tick(): ServingStats {
    const now = performance.now();
    const seconds = Math.max((now - this.lastTick) / 1000, 1e-3);
    const sorted = this.samples.slice(0, this.sampleCount).sort();
    const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : 0);
    const stats: ServingStats = {
      at: new Date().toISOString(),
      requestsPerSecond: this.requests / seconds,
      errorsPerSecond: this.errors / seconds,
      rowsPerSecond: this.rows / seconds,
      latencyMs: { p50: q(0.5), p95: q(0.95), p99: q(0.99) },
      predictionsByClass: { ...this.byClass },
      totalRequests: this.totalRequests,
      totalErrors: this.totalErrors,
    };
    this.requests = this.errors = this.rows = this.sampleCount = this.seen = 0;
    this.lastTick = now;
    return stats;
  }
}
