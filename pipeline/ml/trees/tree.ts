// A fitted tree, in flat arrays; its decisions are on the raw float32 values (and category codes),
// exactly as the exported ONNX TreeEnsemble decides, so the in-memory model and the served one agree.
import type { TreeTable } from './table';

export interface Tree {
  /** Per node: the feature index (numeric first, then categorical), or -1 for a leaf. */
  feature: Int32Array;
  /** Numeric branch: x ≤ threshold goes left (Infinity: every non-missing value does). */
  threshold: Float32Array;
  /** Categorical branch: 1 for the category codes that go left. */
  leftCategories: (Uint8Array | null)[];
  missingLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  /** nOutputs values per node (read at leaves): node · nOutputs + output. */
  values: Float64Array;
  nOutputs: number;
}

/** The leaf a row of the table reaches. */
export function leafOf(tree: Tree, table: TreeTable, row: number): number {
  const k = table.numericNames.length;
  let node = 0;
  for (;;) {
    const f = tree.feature[node];
    if (f < 0) return node;
    let goLeft: boolean;
    if (f < k) {
      const v = table.numeric[row * k + f];
      goLeft = v !== v ? tree.missingLeft[node] === 1 : v <= tree.threshold[node];
    } else {
      const code = table.categorical[f - k].codes[row];
      const cats = tree.leftCategories[node] as Uint8Array;
      goLeft = code < 0 || code >= cats.length - 1 ? tree.missingLeft[node] === 1 : cats[code] === 1;
    }
    node = goLeft ? tree.left[node] : tree.right[node];
  }
}

/** Adds the tree's leaf values of every row to out[row · width + offset + output]. */
export function addTreeValues(tree: Tree, table: TreeTable, out: Float64Array, width: number, offset: number): void {
  const m = tree.nOutputs;
  for (let r = 0; r < table.nRows; r++) {
    const leaf = leafOf(tree, table, r);
    for (let o = 0; o < m; o++) out[r * width + offset + o] += tree.values[leaf * m + o];
  }
}
