// Hand-written: PSI/KS/JS are a few lines each and no maintained JS library computes them against stored deciles/histograms.
import type { DriftSnapshot, FeatureReference, TrainingReference } from '../common/contract';
import { binShares } from '../pipeline/ml/reference';

/** Stands in for an empty share so that PSI stays finite. */
export const PSI_EPSILON = 1e-4;

/** Population stability index Σ (actual − expected)·ln(actual / expected), empty shares raised to PSI_EPSILON. */
export function psi(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`psi of ${actual.length} shares against ${expected.length}`);
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = Math.max(actual[i], PSI_EPSILON);
    const e = Math.max(expected[i], PSI_EPSILON);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/** Jensen–Shannon distance: square root of the base-2 JS divergence, in [0, 1]. */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) throw new Error(`jensenShannon of ${p.length} shares against ${q.length}`);
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    if (p[i] > 0) divergence += 0.5 * p[i] * Math.log2(p[i] / m);
    if (q[i] > 0) divergence += 0.5 * q[i] * Math.log2(q[i] / m);
  }
  // Rounding can leave a tiny negative divergence for identical inputs.
  return Math.sqrt(Math.min(1, Math.max(0, divergence)));
}

/**
 * Training CDF interpolated linearly through (min, 0), (q_1, 1/(m+1)) … (q_m, m/(m+1)), (max, 1).
 * Knots may repeat (a value shared by many training rows); the CDF then jumps there, so it is evaluated
 * right-continuously (`cdfAt`) and as a left limit (`cdfBefore`).
 */
class ReferenceCdf {
  private readonly knots: Float64Array;
  private readonly step: number;

  constructor(ref: FeatureReference) {
    this.knots = Float64Array.from([ref.min, ...ref.quantiles, ref.max]);
    this.step = 1 / (this.knots.length - 1);
  }

  /** P(X ≤ x). */
  cdfAt(x: number): number {
    const k = this.knots;
    const last = k.length - 1;
    if (x < k[0]) return 0;
    if (x >= k[last]) return 1;
    let i = 0;
    while (k[i + 1] <= x) i++; // last knot ≤ x; stops before `last` since x < k[last]
    return (i + (x - k[i]) / (k[i + 1] - k[i])) * this.step;
  }

  /** P(X < x). */
  cdfBefore(x: number): number {
    const k = this.knots;
    const last = k.length - 1;
    if (x <= k[0]) return 0;
    if (x > k[last]) return 1;
    let i = 1;
    while (k[i] < x) i++; // first knot ≥ x; k[i - 1] < x
    return (i - 1 + (x - k[i - 1]) / (k[i] - k[i - 1])) * this.step;
  }
}

/** KS statistic sup |F_window − F_train| for ascending window values. */
function ksStatistic(sorted: Float64Array, cdf: ReferenceCdf): number {
  const n = sorted.length;
  let ks = 0;
  let i = 0;
  while (i < n) {
    const x = sorted[i];
    // A run of equal values is one step of the empirical CDF: from i/n just below x to j/n at x.
    let j = i + 1;
    while (j < n && sorted[j] === x) j++;
    const below = Math.abs(i / n - cdf.cdfBefore(x));
    const at = Math.abs(j / n - cdf.cdfAt(x));
    ks = Math.max(ks, below, at);
    i = j;
  }
  return ks;
}

/**
 * Sliding-window drift of model inputs and predicted classes against the training reference: the last
 * `windowSize` observed rows live in a ring buffer; drift is computed from it when asked.
 */
export class DriftMonitor {
  readonly windowSize: number;
  private readonly featureNames: string[];
  private readonly featureRefs: FeatureReference[];
  private readonly cdfs: ReferenceCdf[];
  private readonly classLabels: string[];
  private readonly classShares: number[];
  private readonly nFeatures: number;
  private readonly nClasses: number;
  /** windowSize × nFeatures, row-major. */
  private readonly values: Float64Array;
  private readonly classes: Int32Array;
  /** Scratch column for snapshot(). */
  private readonly column: Float64Array;
  /** Slot the next row is written to. */
  private head = 0;
  private rows = 0;
  private cached: DriftSnapshot | null = null;

  constructor(reference: TrainingReference, features: string[], classLabels: string[], windowSize = 1000) {
    if (!Number.isInteger(windowSize) || windowSize < 1) {
      throw new Error(`windowSize must be a positive integer, got ${windowSize}`);
    }
    if (features.length === 0) throw new Error('DriftMonitor needs at least one feature');
    if (reference.classShares.length !== classLabels.length) {
      throw new Error(`reference has ${reference.classShares.length} class shares for ${classLabels.length} class labels`);
    }
    this.featureRefs = features.map((name) => {
      const ref = reference.features.find((f) => f.name === name);
      if (!ref) throw new Error(`training reference has no feature "${name}"`);
      if (ref.binEdges.length < 2 || ref.binShares.length !== ref.binEdges.length - 1) {
        throw new Error(`training reference of "${name}" has ${ref.binEdges.length} bin edges for ${ref.binShares.length} bins`);
      }
      return ref;
    });
    this.windowSize = windowSize;
    this.featureNames = [...features];
    this.cdfs = this.featureRefs.map((ref) => new ReferenceCdf(ref));
    this.classLabels = [...classLabels];
    this.classShares = [...reference.classShares];
    this.nFeatures = features.length;
    this.nClasses = classLabels.length;
    this.values = new Float64Array(windowSize * this.nFeatures);
    this.classes = new Int32Array(windowSize);
    this.column = new Float64Array(windowSize);
  }

  /**
   * Adds N rows: `rows` is row-major data of N × features.length, `predicted` the N predicted class
   * indices. Throws, keeping the window unchanged, on a size mismatch, a class index out of range or a
   * NaN value (±Infinity is kept: it lands in the outer bins, beyond the training min/max).
   */
  observe(rows: ArrayLike<number>, predicted: ArrayLike<number>): void {
    const n = predicted.length;
    const nFeatures = this.nFeatures;
    if (rows.length !== n * nFeatures) {
      throw new Error(`observe: ${rows.length} values for ${n} predictions of ${nFeatures} features`);
    }
    if (n === 0) return;
    const nClasses = this.nClasses;
    for (let i = 0; i < n; i++) {
      const c = predicted[i];
      if (!Number.isInteger(c) || c < 0 || c >= nClasses) {
        throw new Error(`observe: predicted class ${c} is not an index in 0..${nClasses - 1}`);
      }
    }
    const total = rows.length;
    for (let i = 0; i < total; i++) {
      if (Number.isNaN(rows[i])) throw new Error(`observe: value ${i % nFeatures} of row ${Math.floor(i / nFeatures)} is NaN`);
    }

    const windowSize = this.windowSize;
    const values = this.values;
    const classes = this.classes;
    let head = this.head;
    // Rows that would be overwritten within this same batch are skipped.
    const first = n > windowSize ? n - windowSize : 0;
    for (let i = first; i < n; i++) {
      const src = i * nFeatures;
      const dst = head * nFeatures;
      for (let j = 0; j < nFeatures; j++) values[dst + j] = rows[src + j];
      classes[head] = predicted[i];
      head = head + 1 === windowSize ? 0 : head + 1;
    }
    this.head = head;
    this.rows = Math.min(windowSize, this.rows + n - first);
    this.cached = null;
  }

  /** Current drift; computed on demand and cached until the next observe(). Treat the result as read-only. */
  snapshot(): DriftSnapshot {
    if (this.cached) return this.cached;
    const count = this.rows;
    const nFeatures = this.nFeatures;

    const features = this.featureRefs.map((ref, j) => {
      if (count === 0) return { name: this.featureNames[j], psi: 0, ks: 0, mean: 0 };
      // Until the buffer wraps, the filled slots are 0..count-1; after, all of them.
      const column = this.column.subarray(0, count);
      let sum = 0;
      for (let r = 0; r < count; r++) {
        const v = this.values[r * nFeatures + j];
        column[r] = v;
        sum += v;
      }
      column.sort();
      return {
        name: this.featureNames[j],
        psi: psi(binShares(Array.from(column), ref.binEdges), ref.binShares),
        ks: ksStatistic(column, this.cdfs[j]),
        mean: sum / count,
      };
    });

    const shares = new Array<number>(this.nClasses).fill(0);
    for (let r = 0; r < count; r++) shares[this.classes[r]] += 1;
    if (count > 0) for (let c = 0; c < shares.length; c++) shares[c] /= count;

    this.cached = {
      windowRows: count,
      windowSize: this.windowSize,
      features,
      classes: {
        labels: [...this.classLabels],
        shares,
        psi: count === 0 ? 0 : psi(shares, this.classShares),
        jensenShannon: count === 0 ? 0 : jensenShannon(shares, this.classShares),
      },
    };
    return this.cached;
  }
}
