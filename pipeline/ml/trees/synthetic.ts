// Generated tables with a known structure (linear terms, an interaction, a sine, a category effect and
// noise), for the trainers' tests and bench/train.ts.
import { Rng } from './rng';
import type { TreeTable, TreeTarget } from './table';

export interface SyntheticOptions {
  rows: number;
  numeric: number;
  categorical?: number;
  /** Categories per categorical column. */
  categories?: number;
  task: 'classification' | 'regression';
  nClasses?: number;
  /** Share of values set missing (NaN, code -1). */
  missing?: number;
  seed: number;
}

function normal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

export function syntheticTable(o: SyntheticOptions): { table: TreeTable; target: TreeTarget } {
  const rng = new Rng(o.seed);
  const k = o.numeric;
  const nCat = o.categorical ?? 0;
  const nCategories = o.categories ?? 5;
  const missing = o.missing ?? 0;
  const numeric = new Float32Array(o.rows * k);
  const weights = Array.from({ length: k }, (_, j) => (j < 10 ? (j % 2 === 0 ? 1 : -1) / (1 + j / 3) : 0));
  // The category effects are part of the structure, not of the sample: the same for every seed.
  const fixed = new Rng(12345);
  const catEffect = Array.from({ length: nCat }, () => Array.from({ length: nCategories }, () => normal(fixed)));
  const codes = Array.from({ length: nCat }, () => new Int32Array(o.rows));
  const latent = new Float64Array(o.rows);
  for (let i = 0; i < o.rows; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) {
      const v = normal(rng);
      const gone = missing > 0 && rng.next() < missing;
      numeric[i * k + j] = gone ? NaN : v;
      s += weights[j] * (gone ? 0.5 : v);
    }
    if (k >= 3) s += 0.8 * (numeric[i * k] || 0) * (numeric[i * k + 1] || 0) + Math.sin(3 * (numeric[i * k + 2] || 0));
    for (let c = 0; c < nCat; c++) {
      const code = missing > 0 && rng.next() < missing ? -1 : rng.below(nCategories);
      codes[c][i] = code;
      s += code < 0 ? 1 : catEffect[c][code];
    }
    latent[i] = s + 0.3 * normal(rng);
  }
  const table: TreeTable = {
    nRows: o.rows,
    numericNames: Array.from({ length: k }, (_, j) => `x${j}`),
    numeric,
    categorical: codes.map((c, j) => ({ name: `c${j}`, categories: Array.from({ length: nCategories }, (_, v) => `v${v}`), codes: c })),
  };
  if (o.task === 'regression') return { table, target: { task: 'regression', y: latent } };
  const nClasses = o.nClasses ?? 2;
  // Classes by fixed cut points of the latent value, spread over its typical range.
  const y = new Int32Array(o.rows);
  for (let i = 0; i < o.rows; i++) {
    let c = 0;
    for (let b = 1; b < nClasses; b++) if (latent[i] > 2.4 * (b / nClasses - 0.5) * 2) c = b;
    y[i] = c;
  }
  return { table, target: { task: 'classification', y, nClasses } };
}
