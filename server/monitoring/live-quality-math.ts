// The arithmetic of live quality: a version's labelled predictions (its rolling window) in, the
// LiveQuality figures out. Pure functions, shared by the prediction log's writer thread (which reads
// the window from SQLite) and the unit tests; no I/O, no imports beyond the contract's types.
import type { LiveQuality } from '../../common/contract';

/** One labelled prediction: what the version predicted, what really happened, and how long the label took. */
export interface LabelledPrediction {
  /** Classification: the predicted label; regression: the predicted value (null when it had none, a NaN). */
  predicted: string | number | null;
  actual: string | number;
  /** Label time minus prediction time, milliseconds. */
  delayMs: number;
}

/**
 * Accuracy, macro F1 and per-class recall, as scikit-learn computes them: macro F1 averages the F1
 * of every class seen among the actual or the predicted labels (F1 = 2·TP / (2·TP + FP + FN));
 * recall is given for every class that occurs among the actual labels (TP / (TP + FN)).
 */
export function classificationQuality(pairs: { predicted: string; actual: string }[]): {
  accuracy: number;
  macroF1: number;
  recall: Record<string, number>;
} {
  const tp = new Map<string, number>();
  const fp = new Map<string, number>();
  const fn = new Map<string, number>();
  const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  let correct = 0;
  for (const { predicted, actual } of pairs) {
    if (predicted === actual) {
      correct++;
      add(tp, actual);
    } else {
      add(fp, predicted);
      add(fn, actual);
    }
  }
  const classes = [...new Set(pairs.flatMap((p) => [p.actual, p.predicted]))].sort();
  let f1Sum = 0;
  const recall: Record<string, number> = {};
  for (const c of classes) {
    const t = tp.get(c) ?? 0;
    const falsePos = fp.get(c) ?? 0;
    const falseNeg = fn.get(c) ?? 0;
    f1Sum += (2 * t) / (2 * t + falsePos + falseNeg);
    if (t + falseNeg > 0) recall[c] = t / (t + falseNeg);
  }
  return {
    accuracy: pairs.length ? correct / pairs.length : 0,
    macroF1: classes.length ? f1Sum / classes.length : 0,
    recall,
  };
}

/** Mean absolute error and root mean squared error. */
export function regressionQuality(pairs: { predicted: number; actual: number }[]): { mae: number; rmse: number } {
  let abs = 0;
  let sq = 0;
  for (const { predicted, actual } of pairs) {
    const e = predicted - actual;
    abs += Math.abs(e);
    sq += e * e;
  }
  const n = pairs.length;
  return n ? { mae: abs / n, rmse: Math.sqrt(sq / n) } : { mae: 0, rmse: 0 };
}

/** Median (nearest rank: the ⌈n/2⌉-th smallest) and maximum of the label delays. */
export function delayQuantiles(delays: number[]): { p50: number; max: number } | null {
  if (delays.length === 0) return null;
  const sorted = [...delays].sort((a, b) => a - b);
  return { p50: sorted[Math.ceil(sorted.length / 2) - 1], max: sorted[sorted.length - 1] };
}

/**
 * A version's LiveQuality from its window (newest first, at most windowSize). The task follows the
 * predictions: string labels make a classification; numbers a regression. A regression row whose
 * prediction was NaN (stored as null) counts as labelled but has no error to average.
 */
export function liveQuality(model: string, version: number, windowSize: number, window: LabelledPrediction[]): LiveQuality {
  const rows = window.slice(0, windowSize);
  const classification = rows.some((r) => typeof r.predicted === 'string');
  const pairs = rows.filter((r) => r.predicted !== null);
  return {
    model,
    version,
    labelled: rows.length,
    windowSize,
    classification: classification
      ? classificationQuality(pairs.map((r) => ({ predicted: String(r.predicted), actual: String(r.actual) })))
      : null,
    regression: classification ? null : regressionQuality(pairs.map((r) => ({ predicted: Number(r.predicted), actual: Number(r.actual) }))),
    labelDelayMs: delayQuantiles(rows.map((r) => r.delayMs)),
  };
}
