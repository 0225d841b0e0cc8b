import client from 'prom-client';
import type { ServedModel } from '../serving/model-holder';
import type { PredictionLogStats } from '../../common/contract';

/**
 * Everything /metrics reports, on a registry of its own. Names follow Prometheus conventions, checked
 * by `promtool check metrics` in test/integration/metrics-names.test.ts: base units in the name
 * (_seconds, _rows), _total for counters only, prefixed mlops_ like BentoML's bentoml_. Gauges that
 * describe the served version carry its model and version labels.
 */
export class ServerMetrics {
  readonly registry = new client.Registry();
  readonly httpDuration: client.Histogram<'route' | 'method' | 'status_code'>;
  readonly predictions: client.Counter<'model' | 'version' | 'class'>;
  readonly inferenceDuration: client.Histogram<'model' | 'version'>;
  readonly batchRows: client.Histogram<'model'>;
  readonly swaps: client.Counter<'outcome'>;
  /** 1 while the registry's database answers its ping (server/monitoring/database-health.ts); SQLite is always 1. */
  readonly databaseUp: client.Gauge;
  readonly unseenCategories: client.Counter<'model' | 'version' | 'feature'>;
  /** The regression prediction histogram and the version its buckets were made for. */
  private valueHistogram: { served: ServedModel; histogram: client.Histogram<'model' | 'version' | 'target'> } | null = null;

  constructor(git: { branch: string; head: string }, served: () => ServedModel | null, logStats: () => PredictionLogStats) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry });
    // prom-client's sums of the per-type gauges are gauges named _total, which promtool rejects: the
    // per-type ones (nodejs_active_handles{type}, …) stay and sum() gives the same.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(name);
    }
    this.httpDuration = new client.Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route, method and status',
      labelNames: ['route', 'method', 'status_code'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.predictions = new client.Counter({
      name: 'mlops_predictions_total',
      help: 'Predicted rows by model, version and predicted class (classification models)',
      labelNames: ['model', 'version', 'class'],
      registers,
    });
    this.inferenceDuration = new client.Histogram({
      name: 'mlops_inference_duration_seconds',
      help: 'Time in onnxruntime per session.run',
      labelNames: ['model', 'version'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
      registers,
    });
    this.batchRows = new client.Histogram({
      name: 'mlops_inference_batch_rows',
      help: 'Rows per session.run',
      labelNames: ['model'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096],
      registers,
    });
    this.unseenCategories = new client.Counter({
      name: 'mlops_unseen_categories_total',
      help: 'Values of categorical features that were not among the training categories, by feature',
      labelNames: ['model', 'version', 'feature'],
      registers,
    });
    this.swaps = new client.Counter({
      name: 'mlops_model_swaps_total',
      help: 'Hot swaps of the served version, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.databaseUp = new client.Gauge({
      name: 'mlops_database_up',
      help: "Whether the registry's database answers (0 during a PostgreSQL outage: predictions go on from the loaded model)",
      registers,
    });

    // Gauges that describe the served version are filled when Prometheus scrapes.
    new client.Gauge({
      name: 'mlops_model_info',
      help: 'The served model version (value 1), with its sha256 and the git branch and head',
      labelNames: ['model', 'version', 'sha256', 'git_branch', 'git_head'],
      registers,
      collect() {
        this.reset();
        const m = served();
        if (m)
          this.set(
            { model: m.info.model, version: String(m.info.version), sha256: m.info.sha256, git_branch: git.branch, git_head: git.head },
            1,
          );
      },
    });
    new client.Gauge({
      name: 'mlops_model_training_metric',
      help: 'Training and evaluation metrics of the served version',
      labelNames: ['model', 'version', 'metric'],
      registers,
      collect() {
        this.reset();
        const m = served();
        if (!m) return;
        for (const [metric, value] of Object.entries(m.info.metrics))
          this.set({ model: m.info.model, version: String(m.info.version), metric }, value);
      },
    });
    // Drift of the served version: labelled with its model and version, so that a swap starts new series.
    type Labels = Record<string, string>;
    type Fill = (set: (labels: Labels, v: number) => void, m: ServedModel) => void;
    const drift = (name: string, help: string, labelNames: string[], fill: Fill) =>
      new client.Gauge({
        name,
        help,
        labelNames: ['model', 'version', ...labelNames],
        registers,
        collect() {
          this.reset();
          const m = served();
          if (m) fill((labels, v) => this.set({ ...m.metricLabels, ...labels }, v), m);
        },
      });
    const vsTraining = 'over the drift window vs training';
    const numeric = (m: ServedModel) => m.drift.snapshot().features.flatMap((f) => (f.kind === 'numeric' ? [f] : []));
    drift('mlops_drift_feature_psi', `Population stability index of each input feature ${vsTraining}`, ['feature'], (set, m) => {
      for (const f of m.drift.snapshot().features) set({ feature: f.name }, f.psi);
    });
    drift('mlops_drift_feature_ks', `Kolmogorov-Smirnov statistic of each input feature ${vsTraining}`, ['feature'], (set, m) => {
      for (const f of numeric(m)) set({ feature: f.name }, f.ks);
    });
    drift('mlops_drift_feature_mean', 'Mean of each input feature over the drift window', ['feature'], (set, m) => {
      for (const f of numeric(m)) set({ feature: f.name }, f.mean);
    });
    const unseenHelp = 'Share of the drift window whose category of a categorical feature was not seen in training';
    drift('mlops_drift_feature_unseen_share', unseenHelp, ['feature'], (set, m) => {
      for (const f of m.drift.snapshot().features) if (f.kind === 'categorical') set({ feature: f.name }, f.unseenShare);
    });
    const targets = (m: ServedModel) => m.drift.snapshot().targets ?? [];
    const predictions = 'of the regression predictions of each target';
    drift('mlops_drift_prediction_psi', `Population stability index ${predictions} ${vsTraining}`, ['target'], (set, m) => {
      for (const t of targets(m)) set({ target: t.name }, t.psi);
    });
    drift('mlops_drift_prediction_ks', `Kolmogorov-Smirnov statistic ${predictions} ${vsTraining}`, ['target'], (set, m) => {
      for (const t of targets(m)) set({ target: t.name }, t.ks);
    });
    drift('mlops_drift_prediction_mean', `Mean ${predictions} over the drift window`, ['target'], (set, m) => {
      for (const t of targets(m)) set({ target: t.name }, t.mean);
    });
    // Not a summary (these are the window's deciles, not a streaming estimate): the label is `decile`, not `quantile`.
    drift('mlops_drift_prediction_decile', `Deciles ${predictions} over the drift window`, ['target', 'decile'], (set, m) => {
      for (const t of targets(m)) t.quantiles.forEach((q, k) => set({ target: t.name, decile: ((k + 1) / 10).toFixed(1) }, q));
    });
    drift('mlops_drift_class_psi', `Population stability index of predicted classes ${vsTraining}`, [], (set, m) => {
      const c = m.drift.snapshot().classes;
      if (c) set({}, c.psi);
    });
    drift('mlops_drift_class_js_distance', `Jensen-Shannon distance of predicted classes ${vsTraining}`, [], (set, m) => {
      const c = m.drift.snapshot().classes;
      if (c) set({}, c.jensenShannon);
    });
    drift('mlops_drift_class_share', 'Share of each predicted class over the drift window', ['class'], (set, m) => {
      const c = m.drift.snapshot().classes;
      c?.labels.forEach((label, i) => set({ class: label }, c.shares[i]));
    });
    drift('mlops_drift_window_rows', 'Rows in the drift window', [], (set, m) => set({}, m.drift.snapshot().windowRows));

    // The prediction log keeps its own counts (stats()); they are read at scrape time.
    new client.Gauge({
      name: 'mlops_prediction_log_rows_queued',
      help: 'Prediction log rows not yet committed (queued or being written)',
      registers,
      collect() {
        this.set(logStats().queued);
      },
    });
    const logCounter = (name: string, help: string, count: (s: PredictionLogStats) => number) =>
      new client.Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(count(logStats()));
        },
      });
    logCounter('mlops_prediction_log_rows_written_total', 'Prediction log rows committed since the server started', (s) => s.written);
    const dropped = 'Prediction log rows dropped (queue full, or lost with a writer thread) since the server started';
    logCounter('mlops_prediction_log_rows_dropped_total', dropped, (s) => s.dropped);
    // 0 only while the writer cannot reach PostgreSQL (rows queue meanwhile); a local SQLite file is always 1.
    new client.Gauge({
      name: 'mlops_prediction_log_database_up',
      help: "Whether the prediction log's database is reachable (0 while rows queue for PostgreSQL to come back)",
      registers,
      collect() {
        this.set(logStats().database === 'unreachable' ? 0 : 1);
      },
    });
  }

  /**
   * The histogram of regression predictions, its buckets spread over the served version's training
   * target range (prom-client fixes buckets per metric): made again when another version is served.
   */
  predictionValues(served: ServedModel): client.Histogram<'model' | 'version' | 'target'> {
    if (this.valueHistogram?.served === served) return this.valueHistogram.histogram;
    if (this.valueHistogram) this.registry.removeSingleMetric('mlops_prediction_value');
    const histogram = new client.Histogram({
      name: 'mlops_prediction_value',
      help: 'Predicted values of a regression model, by target (buckets over the training target range)',
      labelNames: ['model', 'version', 'target'],
      buckets: targetBuckets(served.version.reference.targets ?? []),
      registers: [this.registry],
    });
    this.valueHistogram = { served, histogram };
    return histogram;
  }
}

/** Ten buckets over the training range of the targets (all of them), or prom-client's defaults without a reference. */
function targetBuckets(targets: { min: number; max: number }[]): number[] {
  const lo = Math.min(...targets.map((t) => t.min));
  const hi = Math.max(...targets.map((t) => t.max));
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) return client.linearBuckets(0, 1, 10);
  const step = (hi - lo) / 10;
  return Array.from({ length: 11 }, (_, k) => Number((lo + step * k).toPrecision(6)));
}
