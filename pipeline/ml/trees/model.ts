// The fitted ensemble both trainers return: trees whose leaf values add up into a score per output,
// a base score, and how scores become predictions (softmax for boosting, an average for a forest).
import { addTreeValues, type Tree } from './tree';
import { checkTable, type TreeTable } from './table';

export type EnsembleKind = 'gradient_boosting' | 'random_forest';

export interface LossCurve {
  /** The objective: mean log-loss, or mean squared error. */
  loss: 'log_loss' | 'squared_error';
  /** Measured on the validation split held out for early stopping, else on the rows trained on. */
  on: 'validation' | 'train';
  /** One value per iteration; empty for a forest. */
  values: number[];
}

export interface Predictions {
  /** Classification: the class index of each row (first maximum of the scores). */
  labels: Int32Array | null;
  /** Classification: [N, nClasses] row-major probabilities. Regression: the N values. */
  values: Float64Array;
}

export interface EnsembleSpec {
  kind: EnsembleKind;
  task: 'classification' | 'regression';
  /** Score width: the class count (binary boosting keeps a constant 0 score for class 0), or 1. */
  nOutputs: number;
  trees: Tree[];
  /** The first score column each tree's leaf values add to. */
  treeOffset: Int32Array;
  base: Float64Array;
  /** The numeric feature names and the categorical columns' categories (the ONNX inputs' layout). */
  numericNames: string[];
  categorical: { name: string; categories: string[]; input?: 'string' | 'bool' }[];
  lossCurve: LossCurve;
  /** Iterations (boosting) or trees (forest) actually fitted. */
  iterations: number;
}

export class TreeEnsemble {
  constructor(readonly spec: EnsembleSpec) {}

  get kind(): EnsembleKind {
    return this.spec.kind;
  }

  /** Summed scores [N, nOutputs]: base plus every tree's leaf values, before the softmax or the average. */
  scores(table: TreeTable): Float64Array {
    checkTable(table);
    const { nOutputs, base, trees, treeOffset } = this.spec;
    if (table.numericNames.length !== this.spec.numericNames.length || table.categorical.length !== this.spec.categorical.length) {
      throw new Error('the table does not have the columns the model was trained on');
    }
    const out = new Float64Array(table.nRows * nOutputs);
    for (let r = 0; r < table.nRows; r++) out.set(base, r * nOutputs);
    trees.forEach((tree, t) => addTreeValues(tree, table, out, nOutputs, treeOffset[t]));
    return out;
  }

  predict(table: TreeTable): Predictions {
    const scores = this.scores(table);
    const { nOutputs, task, kind } = this.spec;
    if (kind === 'random_forest') {
      // The exported graph divides the summed float32 weights by the tree count in float32: the same here.
      const n = this.spec.trees.length;
      for (let i = 0; i < scores.length; i++) scores[i] = Math.fround(scores[i] / n);
    }
    if (task === 'regression') return { labels: null, values: scores };
    const labels = new Int32Array(table.nRows);
    for (let r = 0; r < table.nRows; r++) {
      let best = 0;
      for (let c = 1; c < nOutputs; c++) if (scores[r * nOutputs + c] > scores[r * nOutputs + best]) best = c;
      labels[r] = best;
      if (kind === 'gradient_boosting') softmaxInPlace(scores, r * nOutputs, nOutputs);
    }
    return { labels, values: scores };
  }
}

export function softmaxInPlace(v: Float64Array, offset: number, n: number): void {
  let max = -Infinity;
  for (let c = 0; c < n; c++) max = Math.max(max, v[offset + c]);
  let sum = 0;
  for (let c = 0; c < n; c++) {
    v[offset + c] = Math.exp(v[offset + c] - max);
    sum += v[offset + c];
  }
  for (let c = 0; c < n; c++) v[offset + c] /= sum;
}

/**
 * Classification leaf values and base scores are rounded to multiples of 2^-18 (boosting) or 2^-12 (a forest's
 * class shares): their sums are then exact in float32 and in any order, so onnxruntime's summed scores equal
 * ours bit for bit and the argmax labels agree even on ties.
 */
export function quantize(v: number, bits: number): number {
  const scale = 2 ** bits;
  return Math.round(v * scale) / scale;
}
