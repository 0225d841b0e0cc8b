import client from 'prom-client';
import type { Figures } from './challenger';
import type { ServedModel } from '../serving/model-holder';

/** The challenger's series on /metrics, labelled with its model and version (a new challenger starts new series). */
export class ChallengerMetrics {
  readonly latency: client.Histogram;
  readonly errors: client.Counter<'mode'>;
  readonly skipped: client.Counter;
  readonly stops: client.Counter;
  private readonly comparedRows: client.Counter;
  private readonly canaryAnswers: client.Counter<'outcome'>;

  constructor(registry: client.Registry, current: () => ServedModel | null, figures: () => Figures) {
    const registers = [registry];
    new client.Gauge({
      name: 'mlops_challenger_info',
      help: 'The challenger version (value 1)',
      labelNames: ['model', 'version'],
      registers,
      collect() {
        this.reset();
        const c = current();
        if (c) this.set(c.metricLabels, 1);
      },
    });
    new client.Gauge({
      name: 'mlops_challenger_agreement_ratio',
      help: 'Share of shadowed rows where the challenger predicts what the champion predicted (same class, or within 1%)',
      labelNames: ['model', 'version'],
      registers,
      collect() {
        this.reset();
        const c = current();
        const f = figures();
        if (c && f.comparedRows > 0) this.set(c.metricLabels, f.agreedRows / f.comparedRows);
      },
    });
    this.comparedRows = new client.Counter({
      name: 'mlops_challenger_compared_rows_total',
      help: 'Rows run on both the champion and the challenger (shadow)',
      registers,
    });
    this.latency = new client.Histogram({
      name: 'mlops_challenger_latency_seconds',
      help: 'Time the challenger took per request (shadow runs and canary answers)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5],
      registers,
    });
    this.errors = new client.Counter({
      name: 'mlops_challenger_errors_total',
      help: 'Challenger runs that failed, by mode (never seen by callers: a failed canary answer is given by the champion)',
      labelNames: ['mode'],
      registers,
    });
    this.canaryAnswers = new client.Counter({
      name: 'mlops_challenger_canary_requests_total',
      help: 'Requests the canary was asked to answer, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.skipped = new client.Counter({
      name: 'mlops_challenger_shadow_skipped_total',
      help: 'Requests not shadowed because too many shadow runs were already waiting',
      registers,
    });
    this.stops = new client.Counter({
      name: 'mlops_challenger_canary_stops_total',
      help: 'Canaries stopped automatically (error rate or live quality past its threshold)',
      registers,
    });
  }

  /** The agreement ratio itself is read from the running figures at scrape time. */
  compared(rows: number): void {
    this.comparedRows.inc(rows);
  }

  canary(ok: boolean, seconds: number): void {
    this.canaryAnswers.inc({ outcome: ok ? 'ok' : 'error' });
    if (ok) this.latency.observe(seconds);
  }
}
