import type { FeatureReference, NumericDistribution, TrainingReference } from '../../common/contract';

import { checkTrainingData } from './classifier';
import { categoriesOf, type Column } from './table';

const DECILES = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => d / 10);

/** Quantile of ascending values, interpolating linearly between the two nearest ranks (numpy's default). */
function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
}

/**
 * Share of values in each bin [edge_i, edge_i+1), the last bin closed on the right. Values below the
 * first edge or above the last one count in the first or last bin, so live data can be binned against
 * training edges.
 */
export function binShares(values: readonly number[], binEdges: readonly number[]): number[] {
  const bins = binEdges.length - 1;
  if (bins < 1) throw new Error('binEdges needs at least two edges');
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    let bin = 0;
    while (bin < bins - 1 && v >= binEdges[bin + 1]) bin++;
    counts[bin] += 1;
  }
  return counts.map((c) => (values.length === 0 ? 0 : c / values.length));
}

/** Mean, spread, deciles and an equal-width histogram of values (at least one). */
export function numericDistribution(values: readonly number[], bins = 10): NumericDistribution {
  if (values.length === 0) throw new Error('a distribution needs at least one value');
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`bins must be a positive integer, got ${bins}`);
  const sorted = [...values].sort((a, b) => a - b);
  const count = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / count;
  const min = sorted[0];
  const max = sorted[count - 1];
  const binEdges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + ((max - min) * i) / bins));
  return {
    count,
    mean,
    // Population standard deviation (divides by count).
    std: Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / count),
    min,
    max,
    quantiles: DECILES.map((q) => quantile(sorted, q)),
    binEdges,
    binShares: binShares(values, binEdges),
  };
}

export type NumericFeatureReference = Extract<FeatureReference, { kind: 'numeric' }>;

function featureReference(name: string, values: number[], bins: number): NumericFeatureReference {
  return { name, kind: 'numeric', ...numericDistribution(values, bins) };
}

/** Training distribution of every feature and of the classes, kept with a model version for drift checks. */
export function trainingReference(
  X: number[][],
  y: number[],
  features: string[],
  nClasses: number,
  bins = 10,
): TrainingReference & { features: NumericFeatureReference[] } {
  checkTrainingData(X, y, nClasses);
  if (features.length !== X[0].length) {
    throw new Error(`${features.length} feature names for ${X[0].length} feature columns`);
  }
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`bins must be a positive integer, got ${bins}`);
  const classCounts = new Array<number>(nClasses).fill(0);
  for (const label of y) classCounts[label] += 1;
  return {
    rows: X.length,
    features: features.map((name, j) =>
      featureReference(
        name,
        X.map((row) => row[j]),
        bins,
      ),
    ),
    classShares: classCounts.map((c) => c / y.length),
  };
}

/** What a typed reference records about the target. */
export type ReferenceTarget =
  | { task: 'classification'; /** Class index per row. */ y: readonly number[]; nClasses: number }
  | { task: 'regression'; /** One array of values per target, each a value per row. */ values: readonly (readonly number[])[] };

/**
 * The training distribution of a typed feature column: a number column by its histogram (missing
 * values skipped), a string or boolean column by the share of each category (categoriesOf's order;
 * shares of the rows that have a value).
 */
export function columnReference(column: Column, bins = 10): FeatureReference {
  if (column.type === 'number') {
    const present = column.values.filter((v): v is number => v !== null);
    if (present.length === 0) throw new Error(`column '${column.name}' has no values`);
    return featureReference(column.name, present, bins);
  }
  const categories = categoriesOf(column);
  const counts = new Map(categories.map((c) => [c, 0]));
  let count = 0;
  for (const v of column.values) {
    if (v === null) continue;
    const key = String(v);
    counts.set(key, counts.get(key)! + 1);
    count++;
  }
  const shares = categories.map((c) => (count === 0 ? 0 : counts.get(c)! / count));
  return { name: column.name, kind: 'categorical', count, categories, shares };
}

/**
 * The training reference of typed data, kept with a version for drift monitoring: each feature
 * column (columnReference), and the class shares (classification) or the distribution of each
 * target (regression).
 */
export function typedTrainingReference(features: readonly Column[], target: ReferenceTarget, bins = 10): TrainingReference {
  const rows = features[0]?.values.length ?? 0;
  for (const f of features) {
    if (f.values.length !== rows) throw new Error(`column '${f.name}' has ${f.values.length} rows, '${features[0].name}' has ${rows}`);
  }
  const reference: TrainingReference = { rows, features: features.map((f) => columnReference(f, bins)) };
  if (target.task === 'classification') {
    if (target.y.length !== rows) throw new Error(`${target.y.length} class labels for ${rows} rows`);
    const counts = new Array<number>(target.nClasses).fill(0);
    for (const label of target.y) {
      if (!Number.isInteger(label) || label < 0 || label >= target.nClasses) throw new Error(`label ${label} is not a class index`);
      counts[label] += 1;
    }
    reference.classShares = counts.map((c) => (rows === 0 ? 0 : c / rows));
  } else {
    reference.targets = target.values.map((values) => {
      if (values.length !== rows) throw new Error(`${values.length} target values for ${rows} rows`);
      return numericDistribution(values, bins);
    });
  }
  return reference;
}
