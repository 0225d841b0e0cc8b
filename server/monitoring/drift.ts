// Hand-written: PSI/KS/JS are a few lines each and no maintained JS library computes them against stored deciles/histograms.
import type {
  DriftSnapshot,
  FeatureDrift,
  ModelSignature,
  NumericDistribution,
  TargetDrift,
  TrainingReference,
} from '../../common/contract';
import type { Prediction } from '../../common/inference';
import type { InputBatch, InputBuffer } from '../../common/tensor-layout';
import { binShares } from '../../pipeline/ml/reference';

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

  constructor(ref: NumericDistribution) {
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

const DECILES = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => d / 10);

/** Quantile of ascending values, interpolated between the two nearest ranks (as the training reference's). */
function quantile(sorted: ArrayLike<number>, q: number): number {
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
}

/** The key of a categorical value as the reference lists it: strings as they are, numbers and booleans in decimal / true, false. */
function categoryKey(buffer: InputBuffer, index: number): string {
  if (Array.isArray(buffer)) return buffer[index];
  if (buffer instanceof Uint8Array) return buffer[index] === 1 ? 'true' : 'false';
  return String(buffer[index]);
}

/** A numeric value of a feature (NaN for a missing one). */
function numberAt(buffer: InputBuffer, index: number): number {
  if (Array.isArray(buffer)) return NaN;
  return Number(buffer[index]);
}

/** Where a feature's values are in a batch, and its part of the window. */
interface Place {
  name: string;
  input: string;
  stride: number;
  offset: number;
}
type Watched =
  | (Place & { kind: 'numeric'; ref: NumericDistribution; cdf: ReferenceCdf; ring: Float64Array })
  | (Place & { kind: 'categorical'; categories: string[]; shares: number[]; index: Map<string, number>; ring: Int32Array });

/** Numeric summary of a window column against a training distribution; `sorted` ascending, NaN-free. */
function numericDrift(sorted: Float64Array, ref: NumericDistribution | undefined, cdf: ReferenceCdf | null) {
  const count = sorted.length;
  if (count === 0) return { psi: 0, ks: 0, mean: 0 };
  let sum = 0;
  for (let r = 0; r < count; r++) sum += sorted[r];
  return {
    psi: ref ? psi(binShares(Array.from(sorted), ref.binEdges), ref.binShares) : 0,
    ks: cdf ? ksStatistic(sorted, cdf) : 0,
    mean: sum / count,
  };
}

/**
 * Sliding-window drift of model inputs and predictions against the training reference: the last
 * `windowSize` observed rows live in ring buffers (a number per numeric feature, a category index per
 * categorical one, the predicted class or the regression values); drift is computed when asked.
 * Numeric features: PSI against the training histogram, KS against the training quantiles, mean.
 * Categorical features: PSI of the category shares, with the unseen categories as one more bucket.
 * Classification: shares of the predicted classes; regression: each target's predictions against
 * the training target distribution.
 */
export class DriftMonitor {
  readonly windowSize: number;
  private readonly watched: Watched[];
  private readonly classLabels: string[] | null;
  private readonly classShares: number[];
  private readonly targetNames: string[];
  private readonly targetRefs: (NumericDistribution | undefined)[];
  private readonly targetCdfs: (ReferenceCdf | null)[];
  private readonly classes: Int32Array;
  /** windowSize × targets, row-major (regression). */
  private readonly targetValues: Float64Array;
  /** Scratch column for snapshot(). */
  private readonly column: Float64Array;
  /** Per watched feature: the unseen categories of the last observe() (scratch, read by the caller). */
  private readonly unseen: Int32Array;
  /** Slot the next row is written to. */
  private head = 0;
  private rows = 0;
  private cached: DriftSnapshot | null = null;

  constructor(signature: ModelSignature, reference: TrainingReference, windowSize = 1000) {
    if (!Number.isInteger(windowSize) || windowSize < 1) {
      throw new Error(`windowSize must be a positive integer, got ${windowSize}`);
    }
    if (signature.features.length === 0) throw new Error('DriftMonitor needs at least one feature');
    this.windowSize = windowSize;
    const widths = new Map(signature.inputs.map((i) => [i.name, i.width]));
    this.watched = signature.features.map((f): Watched => {
      const ref = reference.features.find((r) => r.name === f.name);
      if (!ref) throw new Error(`training reference has no feature "${f.name}"`);
      const at = { name: f.name, input: f.input, stride: widths.get(f.input) ?? 1, offset: f.column };
      if (ref.kind === 'categorical') {
        if (ref.shares.length !== ref.categories.length) {
          throw new Error(`training reference of "${f.name}" has ${ref.shares.length} shares for ${ref.categories.length} categories`);
        }
        const index = new Map(ref.categories.map((c, k) => [c, k]));
        return { kind: 'categorical', ...at, categories: ref.categories, shares: ref.shares, index, ring: new Int32Array(windowSize) };
      }
      if (ref.binEdges.length < 2 || ref.binShares.length !== ref.binEdges.length - 1) {
        throw new Error(`training reference of "${f.name}" has ${ref.binEdges.length} bin edges for ${ref.binShares.length} bins`);
      }
      return { kind: 'numeric', ...at, ref, cdf: new ReferenceCdf(ref), ring: new Float64Array(windowSize) };
    });
    if (signature.task === 'classification') {
      const shares = reference.classShares ?? [];
      if (shares.length !== signature.classLabels.length) {
        throw new Error(`reference has ${shares.length} class shares for ${signature.classLabels.length} class labels`);
      }
      this.classLabels = [...signature.classLabels];
      this.classShares = [...shares];
      this.targetNames = [];
    } else {
      this.classLabels = null;
      this.classShares = [];
      this.targetNames = [...signature.targets];
    }
    this.targetRefs = this.targetNames.map((_, t) => reference.targets?.[t]);
    this.targetCdfs = this.targetRefs.map((ref) => (ref ? new ReferenceCdf(ref) : null));
    this.classes = new Int32Array(this.classLabels ? windowSize : 0);
    this.targetValues = new Float64Array(windowSize * this.targetNames.length);
    this.column = new Float64Array(windowSize);
    this.unseen = new Int32Array(this.watched.length);
  }

  /** Names of the watched features, in signature order (the order of observe()'s unseen counts). */
  get featureNames(): string[] {
    return this.watched.map((w) => w.name);
  }

  /**
   * Adds the rows of a batch and their prediction. Returns the count of unseen categories per
   * feature in this batch (a scratch array, valid until the next call). Throws, keeping the window
   * unchanged, on a prediction of another size or a class index out of range.
   */
  observe(batch: InputBatch, prediction: Prediction): Int32Array {
    const n = batch.n;
    this.unseen.fill(0);
    if (n === 0) return this.unseen;
    const nTargets = this.targetNames.length;
    if (prediction.task === 'classification') {
      if (!this.classLabels) throw new Error('observe: a classification prediction for a regression model');
      if (prediction.classes.length !== n) throw new Error(`observe: ${prediction.classes.length} predictions for ${n} rows`);
      const nClasses = this.classLabels.length;
      for (let i = 0; i < n; i++) {
        const c = prediction.classes[i];
        if (c < 0 || c >= nClasses) throw new Error(`observe: predicted class ${c} is not an index in 0..${nClasses - 1}`);
      }
    } else if (this.classLabels || prediction.values.length !== n * nTargets) {
      throw new Error(`observe: ${prediction.values.length} regression values for ${n} rows of ${nTargets} targets`);
    }
    const windowSize = this.windowSize;
    // Rows that would be overwritten within this same batch are skipped.
    const first = n > windowSize ? n - windowSize : 0;
    for (let w = 0; w < this.watched.length; w++) {
      const f = this.watched[w];
      const buffer = batch.buffers.get(f.input)!;
      let head = this.head;
      for (let i = first; i < n; i++) {
        const at = i * f.stride + f.offset;
        if (f.kind === 'numeric') f.ring[head] = numberAt(buffer, at);
        else {
          const k = f.index.get(categoryKey(buffer, at)) ?? -1;
          if (k < 0) this.unseen[w]++;
          f.ring[head] = k;
        }
        head = head + 1 === windowSize ? 0 : head + 1;
      }
    }
    let head = this.head;
    for (let i = first; i < n; i++) {
      if (prediction.task === 'classification') this.classes[head] = prediction.classes[i];
      else for (let t = 0; t < nTargets; t++) this.targetValues[head * nTargets + t] = prediction.values[i * nTargets + t];
      head = head + 1 === windowSize ? 0 : head + 1;
    }
    this.head = head;
    this.rows = Math.min(windowSize, this.rows + n - first);
    this.cached = null;
    return this.unseen;
  }

  /** Current drift; computed on demand and cached until the next observe(). Treat the result as read-only. */
  snapshot(): DriftSnapshot {
    if (this.cached) return this.cached;
    const count = this.rows;
    const features = this.watched.map((f): FeatureDrift => {
      if (f.kind === 'categorical') return this.categorical(f, count);
      // Until the buffer wraps, the filled slots are 0..count-1; after, all of them. Missing values (NaN) are left out.
      let m = 0;
      for (let r = 0; r < count; r++) if (!Number.isNaN(f.ring[r])) this.column[m++] = f.ring[r];
      const column = this.column.subarray(0, m).sort();
      return { name: f.name, kind: 'numeric', ...numericDrift(column, f.ref, f.cdf) };
    });
    let classes: DriftSnapshot['classes'] = null;
    if (this.classLabels) {
      const shares = new Array<number>(this.classLabels.length).fill(0);
      for (let r = 0; r < count; r++) shares[this.classes[r]] += 1;
      if (count > 0) for (let c = 0; c < shares.length; c++) shares[c] /= count;
      classes = {
        labels: [...this.classLabels],
        shares,
        psi: count === 0 ? 0 : psi(shares, this.classShares),
        jensenShannon: count === 0 ? 0 : jensenShannon(shares, this.classShares),
      };
    }
    const targets = this.classLabels ? null : this.targetNames.map((name, t) => this.target(name, t, count));
    this.cached = { windowRows: count, windowSize: this.windowSize, features, classes, targets };
    return this.cached;
  }

  private categorical(f: Watched & { kind: 'categorical' }, count: number): FeatureDrift {
    const counts = new Array<number>(f.categories.length + 1).fill(0);
    for (let r = 0; r < count; r++) {
      const k = f.ring[r];
      counts[k < 0 ? f.categories.length : k] += 1;
    }
    const shares = counts.map((c) => (count === 0 ? 0 : c / count));
    const unseenShare = shares[f.categories.length];
    return {
      name: f.name,
      kind: 'categorical',
      psi: count === 0 ? 0 : psi(shares, [...f.shares, 0]),
      unseenShare,
      shares: shares.slice(0, f.categories.length),
      categories: f.categories,
    };
  }

  private target(name: string, t: number, count: number): TargetDrift {
    const nTargets = this.targetNames.length;
    let m = 0;
    for (let r = 0; r < count; r++) {
      const v = this.targetValues[r * nTargets + t];
      if (!Number.isNaN(v)) this.column[m++] = v;
    }
    const sorted = this.column.subarray(0, m).sort();
    const ref = this.targetRefs[t];
    return {
      name,
      ...numericDrift(sorted, ref, this.targetCdfs[t]),
      quantiles: m === 0 ? [] : DECILES.map((q) => quantile(sorted, q)),
      binShares: ref && m > 0 ? binShares(Array.from(sorted), ref.binEdges) : [],
    };
  }
}
