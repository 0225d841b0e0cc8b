// The best split of a node from its histograms: for a numeric feature, a threshold bin (bins ≤ it go
// left) with the missing bin tried on either side; for a categorical one, a prefix of its categories
// sorted by their gradient statistics (the missing bin is one of them). Gain is the drop of
// -Σ_c G_c² / (H + λ), which is the boosting objective's and, with G = class weights and H = weight,
// the gini decrease of a forest.
import { HIST_BINS, MISSING_BIN, type FeatureBins } from './binning';

export interface SplitLimits {
  minSamplesLeaf: number;
  minHessian: number;
  l2: number;
}

export interface Split {
  gain: number;
  feature: number;
  /** Numeric: bins ≤ bin go left. */
  bin: number;
  /** Categorical: 1 for the bins (categories, and MISSING_BIN) that go left. */
  leftBins: Uint8Array | null;
  missingLeft: boolean;
  /** Left child's totals: channels, hessian, count (the right child's are the parent's minus these). */
  left: Float64Array;
}

/** Mutable scratch shared by the scans of one node, so scanning allocates nothing per bin. */
export class SplitFinder {
  private readonly acc: Float64Array;
  private readonly order = new Int32Array(HIST_BINS);
  private readonly keys = new Float64Array(HIST_BINS);
  best: Split | null = null;

  /** The channel whose mean orders categories (the only one for boosting; a class for a forest). */
  sortChannel = 0;

  constructor(
    private readonly nChannels: number,
    private readonly limits: SplitLimits,
  ) {
    this.acc = new Float64Array(nChannels + 2);
  }

  /** Starts the search for another node's split. */
  reset(sortChannel: number): void {
    this.best = null;
    this.sortChannel = sortChannel;
  }

  private score(s: Float64Array, offset: number): number {
    const h = s[offset + this.nChannels] + this.limits.l2;
    let sum = 0;
    for (let c = 0; c < this.nChannels; c++) sum += s[offset + c] * s[offset + c];
    return sum / h;
  }

  /** Gain of the left totals in acc against the parent's, or -Infinity if a side breaks a limit. */
  private gainOf(parent: Float64Array, parentScore: number, right: Float64Array): number {
    const nc = this.nChannels;
    const { minSamplesLeaf, minHessian } = this.limits;
    const acc = this.acc;
    if (acc[nc + 1] < minSamplesLeaf || parent[nc + 1] - acc[nc + 1] < minSamplesLeaf) return -Infinity;
    if (acc[nc] < minHessian || parent[nc] - acc[nc] < minHessian) return -Infinity;
    for (let s = 0; s < nc + 2; s++) right[s] = parent[s] - acc[s];
    return this.score(acc, 0) + this.score(right, 0) - parentScore;
  }

  private addBin(hist: Float64Array, o: number): void {
    for (let s = 0; s < this.nChannels + 2; s++) this.acc[s] += hist[o + s];
  }

  private record(gain: number, feature: number, bin: number, leftBins: Uint8Array | null, missingLeft: boolean): void {
    this.best = { gain, feature, bin, leftBins, missingLeft, left: Float64Array.from(this.acc) };
  }

  /** Considers every split of one feature of the node whose totals are `parent`. */
  scan(hist: Float64Array, feature: number, bins: FeatureBins, parent: Float64Array, right: Float64Array): void {
    const stride = this.nChannels + 2;
    const base = feature * HIST_BINS * stride;
    const parentScore = this.score(parent, 0);
    const missing = base + MISSING_BIN * stride;
    const missingCount = hist[missing + this.nChannels + 1];
    if (bins.categorical) {
      this.scanCategories(hist, base, feature, bins.nBins, parent, parentScore, right, missingCount > 0);
      return;
    }
    if (this.nChannels === 1) {
      this.scanOneChannel(hist, base, feature, bins.nBins, parent, parentScore, missingCount);
      return;
    }
    for (let dir = 0; dir < (missingCount > 0 ? 2 : 1); dir++) {
      this.acc.fill(0);
      if (dir === 1) this.addBin(hist, missing);
      let bestGain = this.best?.gain ?? 0;
      let bestBin = -1;
      for (let b = 0; b < bins.nBins; b++) {
        const o = base + b * stride;
        // An empty bin moves no row: the split before it is the same one.
        if (hist[o + stride - 1] === 0) continue;
        this.addBin(hist, o);
        const gain = this.gainOf(parent, parentScore, right);
        if (gain > bestGain) {
          bestGain = gain;
          bestBin = b;
        }
      }
      if (bestBin >= 0)
        this.recordThreshold(hist, base, missing, dir, bestBin, bestGain, feature, missingCount, parent[this.nChannels + 1]);
    }
  }

  /** Records the threshold split at bestBin, recomputing its left totals. */
  private recordThreshold(
    hist: Float64Array,
    base: number,
    missing: number,
    dir: number,
    bestBin: number,
    gain: number,
    feature: number,
    missingCount: number,
    parentCount: number,
  ): void {
    const stride = this.nChannels + 2;
    const count = this.nChannels + 1;
    this.acc.fill(0);
    if (dir === 1) this.addBin(hist, missing);
    for (let b = 0; b <= bestBin; b++) this.addBin(hist, base + b * stride);
    const total = parentCount;
    // With no missing value here, a missing value at prediction goes with the majority, as in scikit-learn.
    const missingLeft = missingCount > 0 ? dir === 1 : this.acc[count] >= total - this.acc[count];
    this.record(gain, feature, bestBin, null, missingLeft);
  }

  /** scan() for one channel (boosting, a forest's regression) with the sums in locals: the hot case. */
  private scanOneChannel(
    hist: Float64Array,
    base: number,
    feature: number,
    nBins: number,
    parent: Float64Array,
    parentScore: number,
    missingCount: number,
  ): void {
    const { minSamplesLeaf, minHessian, l2 } = this.limits;
    const [G, H, C] = [parent[0], parent[1], parent[2]];
    const m = base + MISSING_BIN * 3;
    for (let dir = 0; dir < (missingCount > 0 ? 2 : 1); dir++) {
      let gl = dir === 1 ? hist[m] : 0;
      let hl = dir === 1 ? hist[m + 1] : 0;
      let cl = dir === 1 ? hist[m + 2] : 0;
      let bestGain = this.best?.gain ?? 0;
      let bestBin = -1;
      for (let b = 0; b < nBins; b++) {
        const o = base + b * 3;
        if (hist[o + 2] === 0) continue;
        gl += hist[o];
        hl += hist[o + 1];
        cl += hist[o + 2];
        if (cl < minSamplesLeaf || hl < minHessian) continue;
        const cr = C - cl;
        const hr = H - hl;
        if (cr < minSamplesLeaf || hr < minHessian) break;
        const gr = G - gl;
        const gain = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          bestBin = b;
        }
      }
      if (bestBin >= 0) this.recordThreshold(hist, base, m, dir, bestBin, bestGain, feature, missingCount, C);
    }
  }

  private scanCategories(
    hist: Float64Array,
    base: number,
    feature: number,
    nBins: number,
    parent: Float64Array,
    parentScore: number,
    right: Float64Array,
    hasMissing: boolean,
  ): void {
    const stride = this.nChannels + 2;
    const nc = this.nChannels;
    let m = 0;
    for (let b = 0; b < nBins; b++) {
      if (hist[base + b * stride + nc + 1] > 0) this.order[m++] = b;
    }
    if (hasMissing) this.order[m++] = MISSING_BIN;
    for (let i = 0; i < m; i++) {
      const o = base + this.order[i] * stride;
      this.keys[this.order[i]] = hist[o + this.sortChannel] / (hist[o + nc] + 1e-12);
    }
    const sorted = Array.from(this.order.subarray(0, m)).sort((a, b) => this.keys[a] - this.keys[b] || a - b);
    this.acc.fill(0);
    for (let i = 0; i + 1 < m; i++) {
      this.addBin(hist, base + sorted[i] * stride);
      const gain = this.gainOf(parent, parentScore, right);
      if (gain > (this.best?.gain ?? 0)) {
        const leftBins = new Uint8Array(HIST_BINS);
        for (let j = 0; j <= i; j++) leftBins[sorted[j]] = 1;
        const missingLeft = hasMissing ? leftBins[MISSING_BIN] === 1 : this.acc[nc + 1] >= right[nc + 1];
        leftBins[MISSING_BIN] = missingLeft ? 1 : 0;
        this.record(gain, feature, -1, leftBins, missingLeft);
      }
    }
  }
}
