// Live quality on the server's main thread: the latest figures of every version with labels, as the
// prediction log's writer thread computed them (at start, after each stored feedback batch, after
// retention dropped labels), and the Prometheus series made of them. Reading is a map lookup: the
// challenger, the alerts and /api/monitoring call quality(model, version) as often as they like.
import client from 'prom-client';
import type { LiveQuality } from '../../common/contract';

export type QualityListener = (quality: LiveQuality) => void;

const key = (model: string, version: number) => `${model}\u0000${version}`;

export class LiveQualityTracker {
  private readonly byVersion = new Map<string, LiveQuality>();
  private readonly listeners = new Set<QualityListener>();
  /** Feedback entries by outcome: accepted (stored), duplicate (already stored alike), rejected (refused with a 4xx). */
  readonly feedback: client.Counter<'outcome'>;
  /** Delay between a prediction and its label, observed once per stored label. */
  readonly labelDelay: client.Histogram<'model'>;

  constructor(
    registry: client.Registry,
    readonly windowSize: number,
  ) {
    const registers = [registry];
    this.feedback = new client.Counter({
      name: 'mlops_feedback_total',
      help: 'Ground-truth feedback entries by outcome (accepted, duplicate, rejected)',
      labelNames: ['outcome'],
      registers,
    });
    this.labelDelay = new client.Histogram({
      name: 'mlops_label_delay_seconds',
      help: 'Delay between a prediction and its ground-truth label',
      labelNames: ['model'],
      buckets: [1, 10, 60, 300, 900, 3600, 4 * 3600, 86_400, 7 * 86_400],
      registers,
    });
    const byVersion = this.byVersion;
    type Fill = (q: LiveQuality, set: (labels: Record<string, string>, v: number) => void) => void;
    const gauge = (name: string, help: string, labelNames: string[], fill: Fill) =>
      new client.Gauge({
        name,
        help: `${help} over the rolling window of labelled predictions of each version`,
        labelNames: ['model', 'version', ...labelNames],
        registers,
        collect() {
          this.reset();
          for (const q of byVersion.values()) {
            fill(q, (labels, v) => this.set({ model: q.model, version: String(q.version), ...labels }, v));
          }
        },
      });
    gauge('mlops_live_labelled_rows', 'Labelled predictions', [], (q, set) => set({}, q.labelled));
    gauge('mlops_live_accuracy', 'Accuracy', [], (q, set) => {
      if (q.classification) set({}, q.classification.accuracy);
    });
    gauge('mlops_live_macro_f1', 'Macro-averaged F1', [], (q, set) => {
      if (q.classification) set({}, q.classification.macroF1);
    });
    gauge('mlops_live_recall', 'Recall of each actual class', ['class'], (q, set) => {
      for (const [c, r] of Object.entries(q.classification?.recall ?? {})) set({ class: c }, r);
    });
    gauge('mlops_live_mae', 'Mean absolute error', [], (q, set) => {
      if (q.regression) set({}, q.regression.mae);
    });
    gauge('mlops_live_rmse', 'Root mean squared error', [], (q, set) => {
      if (q.regression) set({}, q.regression.rmse);
    });
    gauge('mlops_live_label_delay_median_seconds', 'Median label delay', [], (q, set) => {
      if (q.labelDelayMs) set({}, q.labelDelayMs.p50 / 1000);
    });
  }

  /** The version's quality over its window, or null when none of its predictions has a label. */
  quality(model: string, version: number): LiveQuality | null {
    return this.byVersion.get(key(model, version)) ?? null;
  }

  /** Every version with labels. */
  all(): LiveQuality[] {
    return [...this.byVersion.values()];
  }

  /** Called with a version's quality each time it is computed again (after feedback, retention, at start). */
  onChange(listener: QualityListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** New figures from the writer thread; `replace`: versions not among them have no labels left. */
  update(qualities: LiveQuality[], replace: boolean): void {
    if (replace) this.byVersion.clear();
    for (const q of qualities) this.byVersion.set(key(q.model, q.version), q);
    for (const q of qualities) for (const listener of this.listeners) listener(q);
  }
}
