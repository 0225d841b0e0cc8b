// Gradient/hessian histograms: per feature and bin, the sums of each gradient channel, of the hessian and
// the row count. Layout: hist[(feature · 256 + bin) · stride + slot], stride = channels + 2, so one
// node's histogram is one Float64Array and its sibling's is the parent minus it.
import { HIST_BINS } from './binning';

/** Per-row statistics the trees are fitted to. */
export type RowStats =
  /** One channel: gradient g and hessian h per row (boosting; a forest's regression uses g = w·y, h = w). */
  | { mode: 'gradient'; g: Float64Array; h: Float64Array; unitHessian?: boolean }
  /** One channel per class: a row adds its weight w to its class's channel (a classification forest's gini). */
  | { mode: 'class'; y: Int32Array; w: Float64Array; nClasses: number };

export function channelsOf(stats: RowStats): number {
  return stats.mode === 'gradient' ? 1 : stats.nClasses;
}

/** Clears the histogram slices of the given features. */
export function clearHistogram(hist: Float64Array, features: Int32Array, nFeatures: number, stride: number): void {
  const size = HIST_BINS * stride;
  for (let j = 0; j < nFeatures; j++) hist.fill(0, features[j] * size, features[j] * size + size);
}

/**
 * Adds rows idx[start..end) to the histograms of the given features. The gradients are gathered into
 * row order first (og/oh), so that the loop over each feature reads them sequentially.
 */
export function buildHistogram(
  hist: Float64Array,
  features: Int32Array,
  nFeatures: number,
  columns: Uint8Array[],
  idx: Uint32Array,
  start: number,
  end: number,
  stats: RowStats,
  og: Float64Array,
  oh: Float64Array,
): void {
  if (stats.mode === 'class') {
    buildClassHistogram(hist, features, nFeatures, columns, idx, start, end, stats.y, stats.w, stats.nClasses);
    return;
  }
  if (stats.unitHessian) {
    buildUnitHessianHistogram(hist, features, nFeatures, columns, idx, start, end, stats.g, og);
    return;
  }
  const n = end - start;
  const g = stats.g;
  const h = stats.h;
  for (let i = 0; i < n; i++) {
    const r = idx[start + i];
    og[i] = g[r];
    oh[i] = h[r];
  }
  let j = 0;
  // Four features per pass over the rows: the row index and its gradients are read once for four
  // histogram updates, which also overlaps their memory latencies (~20% faster than one at a time).
  for (; j + 4 <= nFeatures; j += 4) {
    const c0 = columns[features[j]];
    const c1 = columns[features[j + 1]];
    const c2 = columns[features[j + 2]];
    const c3 = columns[features[j + 3]];
    const b0 = features[j] * HIST_BINS * 3;
    const b1 = features[j + 1] * HIST_BINS * 3;
    const b2 = features[j + 2] * HIST_BINS * 3;
    const b3 = features[j + 3] * HIST_BINS * 3;
    for (let i = 0; i < n; i++) {
      const r = idx[start + i];
      const gi = og[i];
      const hi = oh[i];
      let o = b0 + c0[r] * 3;
      hist[o] += gi;
      hist[o + 1] += hi;
      hist[o + 2] += 1;
      o = b1 + c1[r] * 3;
      hist[o] += gi;
      hist[o + 1] += hi;
      hist[o + 2] += 1;
      o = b2 + c2[r] * 3;
      hist[o] += gi;
      hist[o + 1] += hi;
      hist[o + 2] += 1;
      o = b3 + c3[r] * 3;
      hist[o] += gi;
      hist[o + 1] += hi;
      hist[o + 2] += 1;
    }
  }
  for (; j < nFeatures; j++) {
    const col = columns[features[j]];
    const base = features[j] * HIST_BINS * 3;
    for (let i = 0; i < n; i++) {
      const o = base + col[idx[start + i]] * 3;
      hist[o] += og[i];
      hist[o + 1] += oh[i];
      hist[o + 2] += 1;
    }
  }
}

/**
 * buildHistogram() when every hessian is 1 (squared error): the hessian sum of a bin is its row count,
 * so the loop adds gradients and counts only and the hessian slot is copied from the count after.
 */
function buildUnitHessianHistogram(
  hist: Float64Array,
  features: Int32Array,
  nFeatures: number,
  columns: Uint8Array[],
  idx: Uint32Array,
  start: number,
  end: number,
  g: Float64Array,
  og: Float64Array,
): void {
  const n = end - start;
  for (let i = 0; i < n; i++) og[i] = g[idx[start + i]];
  let j = 0;
  for (; j + 4 <= nFeatures; j += 4) {
    const c0 = columns[features[j]];
    const c1 = columns[features[j + 1]];
    const c2 = columns[features[j + 2]];
    const c3 = columns[features[j + 3]];
    const b0 = features[j] * HIST_BINS * 3;
    const b1 = features[j + 1] * HIST_BINS * 3;
    const b2 = features[j + 2] * HIST_BINS * 3;
    const b3 = features[j + 3] * HIST_BINS * 3;
    for (let i = 0; i < n; i++) {
      const r = idx[start + i];
      const gi = og[i];
      let o = b0 + c0[r] * 3;
      hist[o] += gi;
      hist[o + 2] += 1;
      o = b1 + c1[r] * 3;
      hist[o] += gi;
      hist[o + 2] += 1;
      o = b2 + c2[r] * 3;
      hist[o] += gi;
      hist[o + 2] += 1;
      o = b3 + c3[r] * 3;
      hist[o] += gi;
      hist[o + 2] += 1;
    }
  }
  for (; j < nFeatures; j++) {
    const col = columns[features[j]];
    const base = features[j] * HIST_BINS * 3;
    for (let i = 0; i < n; i++) {
      const o = base + col[idx[start + i]] * 3;
      hist[o] += og[i];
      hist[o + 2] += 1;
    }
  }
  for (let k = 0; k < nFeatures; k++) {
    const base = features[k] * HIST_BINS * 3;
    for (let b = 0; b < HIST_BINS; b++) hist[base + b * 3 + 1] = hist[base + b * 3 + 2];
  }
}

function buildClassHistogram(
  hist: Float64Array,
  features: Int32Array,
  nFeatures: number,
  columns: Uint8Array[],
  idx: Uint32Array,
  start: number,
  end: number,
  y: Int32Array,
  w: Float64Array,
  nClasses: number,
): void {
  const stride = nClasses + 2;
  for (let j = 0; j < nFeatures; j++) {
    const f = features[j];
    const col = columns[f];
    const base = f * HIST_BINS * stride;
    for (let i = start; i < end; i++) {
      const r = idx[i];
      const o = base + col[r] * stride;
      const wr = w[r];
      hist[o + y[r]] += wr;
      hist[o + nClasses] += wr;
      hist[o + nClasses + 1] += 1;
    }
  }
}

/** hist -= other, over all features (the larger child's histogram from its parent's and its sibling's). */
export function subtractHistogram(hist: Float64Array, other: Float64Array): void {
  for (let i = 0; i < hist.length; i++) hist[i] -= other[i];
}

/** Sums the bins of one feature: the node's totals (channels, hessian, count) into out. */
export function nodeTotals(hist: Float64Array, feature: number, stride: number, out: Float64Array): void {
  out.fill(0);
  const base = feature * HIST_BINS * stride;
  for (let b = 0; b < HIST_BINS; b++) {
    for (let s = 0; s < stride; s++) out[s] += hist[base + b * stride + s];
  }
}
