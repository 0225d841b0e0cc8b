// Group gaps for the model card: the test split's quality within each value of a categorical
// feature (e.g. penguins' island or sex), and the largest gap between two values. A model that is
// good on average can be poor for one group; the card shows it (README "Model cards").
import { MIN_GAP_ROWS, type GroupReport, type GroupSlice } from '../../common/model-card';
import type { Column } from '../ml/table';

/** The truth and the model's answers on the test split: class indexes (classification) or values. */
export interface GroupInputs {
  task: 'classification' | 'regression';
  columns: Column[];
  /** The test split's truth and predictions, row by row. */
  truth: readonly number[];
  predicted: readonly number[];
}

/** The value a missing cell is grouped under. */
export const MISSING_GROUP = '(missing)';

function slice(value: string, rows: number[], x: GroupInputs): GroupSlice {
  if (x.task === 'regression') {
    const mae = rows.reduce((sum, r) => sum + Math.abs(x.truth[r] - x.predicted[r]), 0) / rows.length;
    return { value, rows: rows.length, mae };
  }
  const correct = rows.filter((r) => x.truth[r] === x.predicted[r]).length;
  // Recall per class present in the slice, averaged: a slice where one class is always missed scores low.
  const classes = [...new Set(rows.map((r) => x.truth[r]))];
  const recalls = classes.map((c) => {
    const of = rows.filter((r) => x.truth[r] === c);
    return of.filter((r) => x.predicted[r] === c).length / of.length;
  });
  return { value, rows: rows.length, accuracy: correct / rows.length, recall: recalls.reduce((a, b) => a + b, 0) / recalls.length };
}

/** One report per categorical (string or boolean) column; number columns are not grouped. */
export function groupReports(x: GroupInputs): GroupReport[] {
  if (x.truth.length !== x.predicted.length) throw new Error(`${x.truth.length} truths but ${x.predicted.length} predictions`);
  return x.columns.filter((c) => c.type !== 'number').map((column) => groupReport(column, x));
}

function groupReport(column: Column, x: GroupInputs): GroupReport {
  const rowsOf = new Map<string, number[]>();
  column.values.forEach((v, r) => {
    const key = v === null ? MISSING_GROUP : String(v);
    const rows = rowsOf.get(key);
    if (rows) rows.push(r);
    else rowsOf.set(key, [r]);
  });
  const slices = [...rowsOf.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([value, rows]) => slice(value, rows, x));
  const counted = slices.filter((s) => s.rows >= MIN_GAP_ROWS);
  if (counted.length < 2) return { feature: column.name, slices, gap: null };
  // Higher accuracy is better, lower MAE is: best and worst follow the metric's direction.
  const metric = x.task === 'regression' ? 'mae' : 'accuracy';
  const score = (s: GroupSlice) => (metric === 'mae' ? -(s.mae ?? 0) : (s.accuracy ?? 0));
  const ranked = [...counted].sort((a, b) => score(b) - score(a));
  const best = ranked[0];
  const worst = ranked[ranked.length - 1];
  return {
    feature: column.name,
    slices,
    gap: { metric, value: Math.abs(score(best) - score(worst)), best: best.value, worst: worst.value },
  };
}
