// How a model version reads in the extension (registry tree, quick picks, model card, metrics webview):
// its task, headline metrics and typed inputs, from the signature alone. No imports beyond the
// contract, so the extension host and the webview script share it.
import type { FeatureSpec, ModelSignature, ModelTask } from '../common/contract';

/** The metrics a task is judged by, best known first: the ones the tree shows next to a version. */
const HEADLINE: Record<ModelTask, string[]> = {
  classification: ['accuracy', 'macro_f1', 'f1_macro', 'auc', 'log_loss'],
  regression: ['rmse', 'r2', 'mae', 'mape'],
};

/** Short names for the tree's description line. */
const SHORT: Record<string, string> = { accuracy: 'acc', macro_f1: 'F1', f1_macro: 'F1', r2: 'R²', rmse: 'RMSE', mae: 'MAE' };

/** A metric value as people read it: whole numbers as they are, others to `digits` places. */
export function formatMetric(value: number, digits = 3): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/**
 * The task's headline metrics present in `metrics` (at most `max`), else the first metrics there are:
 * generic over whatever a pipeline or an import recorded.
 */
export function headlineMetrics(task: ModelTask, metrics: Record<string, number>, max = 2): [string, number][] {
  const known = HEADLINE[task].filter((name) => Number.isFinite(metrics[name])).map((name): [string, number] => [name, metrics[name]]);
  return (known.length > 0 ? known : Object.entries(metrics).filter(([, v]) => Number.isFinite(v))).slice(0, max);
}

const named = (metrics: [string, number][]) => metrics.map(([k, v]) => `${SHORT[k] ?? k} ${formatMetric(v)}`);

/** "regression · RMSE 301.2 · R² 0.861": the task and its headline metrics on one line. */
export function metricsLine(signature: ModelSignature, metrics: Record<string, number>): string {
  return [signature.task, ...named(headlineMetrics(signature.task, metrics))].join(' · ');
}

/**
 * A run's headline metrics when only its metrics are known (no signature): those of the task whose
 * metrics it recorded, or nothing ("acc 0.967", "RMSE 301.2 · R² 0.861", "").
 */
export function runMetricsLine(metrics: Record<string, number>): string {
  const task = (['classification', 'regression'] as const).find((t) => HEADLINE[t].some((m) => Number.isFinite(metrics[m])));
  return task ? named(headlineMetrics(task, metrics)).join(' · ') : '';
}

/** "string, 3 categories", "float32, 2.1 … 7.9", "int64": what a feature takes. */
export function featureType(f: FeatureSpec): string {
  const extra = f.categories
    ? `${f.categories.length} categor${f.categories.length === 1 ? 'y' : 'ies'}${f.strict ? ', strict' : ''}`
    : f.min !== undefined && f.max !== undefined
      ? `${formatMetric(f.min)} … ${formatMetric(f.max)}`
      : '';
  return [f.type + (f.nullable ? '?' : ''), extra].filter(Boolean).join(', ');
}

/** A feature's categories for a table cell: the first `max` (a high-cardinality column would fill a model card). */
export function categoryList(categories: string[] | undefined, max = 20): string {
  if (!categories) return '';
  return categories.slice(0, max).join(', ') + (categories.length > max ? ` … (${categories.length})` : '');
}

/** "island: string · bill_length_mm: float32 → body_mass_g (regression)": inputs and outputs on one line. */
export function signatureLine(signature: ModelSignature): string {
  const inputs = signature.features.map((f) => `${f.name}: ${f.type}`).join(' · ');
  const out =
    signature.task === 'regression'
      ? `${signature.targets.join(', ')} (regression)`
      : `${signature.target} (${signature.classLabels.length} classes)`;
  return `${inputs} → ${out}`;
}

/** The ONNX inputs as "name type [N, width]" (one per line in the model card). */
export function onnxInputs(signature: ModelSignature): string[] {
  return signature.inputs.map((i) => `${i.name} ${i.type} ${i.rank === 1 ? '[N]' : `[N, ${i.width}]`}`);
}

/** The ONNX outputs the server reads, named by role. */
export function onnxOutputs(signature: ModelSignature): string[] {
  if (signature.task === 'regression') return [`${signature.valueOutput} (values: ${signature.targets.join(', ')})`];
  const label = `${signature.labelOutput} (label, ${signature.labelKind})`;
  return signature.probabilitiesOutput ? [label, `${signature.probabilitiesOutput} (probabilities)`] : [label];
}

/**
 * One line for what /predict answered to a batch of records: the class labels, or each regression
 * target's values. Anything else (an error body) is shown as JSON, cut short.
 */
export function predictionSummary(signature: ModelSignature, body: unknown): string {
  if (!Array.isArray(body)) return JSON.stringify(body).slice(0, 200);
  const rows = body as Record<string, unknown>[];
  const cell = (v: unknown) => (typeof v === 'number' ? formatMetric(v, 2) : v === undefined || v === null ? '-' : String(v));
  if (signature.task === 'classification') return rows.map((r) => cell(r?.[signature.target])).join(', ');
  return signature.targets.map((t) => `${t} ${rows.map((r) => cell(r?.[t])).join(', ')}`).join('; ');
}
