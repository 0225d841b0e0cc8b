import type { FeatureReference, TrainingReference } from '../../common/contract';

import { checkTrainingData } from './classifier';

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

function featureReference(name: string, values: number[], bins: number): FeatureReference {
  const sorted = [...values].sort((a, b) => a - b);
  const count = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / count;
  const min = sorted[0];
  const max = sorted[count - 1];
  const binEdges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + ((max - min) * i) / bins));
  return {
    name,
    kind: 'numeric',
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

/** Training distribution of every feature and of the classes, kept with a model version for drift checks. */
export function trainingReference(X: number[][], y: number[], features: string[], nClasses: number, bins = 10): TrainingReference {
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
