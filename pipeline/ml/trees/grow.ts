// Grows one tree on binned data, best first (the open leaf with the largest gain is split next) up to
// maxLeafNodes leaves and maxDepth. Row indexes of each node are a range of one Uint32Array, partitioned
// in place. When every feature is considered at every split (boosting), a child's histogram is its
// parent's minus its sibling's, so only the smaller child is built from rows; a forest draws features per
// split and builds each node's own.
import { HIST_BINS, MISSING_BIN, type BinnedTable } from './binning';
import { buildHistogram, channelsOf, clearHistogram, nodeTotals, subtractHistogram, type RowStats } from './histogram';
import type { Rng } from './rng';
import { SplitFinder, type Split, type SplitLimits } from './split';
import type { Tree } from './tree';

export interface GrowParams extends SplitLimits {
  maxLeafNodes: number;
  maxDepth: number;
  /** Features tried per split; fewer than all are drawn anew at each split. */
  maxFeatures: number;
}

/** Leaf values of a node from its totals (channels, hessian, count): written to out. */
export type LeafValue = (totals: Float64Array, out: Float64Array) => void;

interface OpenNode {
  id: number;
  start: number;
  end: number;
  depth: number;
  totals: Float64Array;
  hist: Float64Array | null;
  split: Split | null;
}

interface Frontier {
  readonly size: number;
  push(node: OpenNode): void;
  pop(): OpenNode;
}

/** Without a leaf limit the order of splits does not matter: depth first keeps O(depth) nodes (and histograms) open. */
class Stack implements Frontier {
  private readonly items: OpenNode[] = [];
  get size(): number {
    return this.items.length;
  }
  push(node: OpenNode): void {
    this.items.push(node);
  }
  pop(): OpenNode {
    return this.items.pop() as OpenNode;
  }
}

/** Open nodes ordered by gain, ties by node id (so growth is deterministic). */
class MaxHeap implements Frontier {
  private readonly items: OpenNode[] = [];
  get size(): number {
    return this.items.length;
  }
  private before(a: OpenNode, b: OpenNode): boolean {
    const ga = (a.split as Split).gain;
    const gb = (b.split as Split).gain;
    return ga > gb || (ga === gb && a.id < b.id);
  }
  push(node: OpenNode): void {
    const items = this.items;
    items.push(node);
    let i = items.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(items[i], items[p])) break;
      [items[i], items[p]] = [items[p], items[i]];
      i = p;
    }
  }
  pop(): OpenNode {
    const items = this.items;
    const top = items[0];
    const last = items.pop() as OpenNode;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.before(items[l], items[m])) m = l;
        if (r < items.length && this.before(items[r], items[m])) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m], items[i]];
        i = m;
      }
    }
    return top;
  }
}

/** A grown tree and where its leaves' rows are: idx[start..end) (valid until the next grow). */
export interface GrownTree {
  tree: Tree;
  leaves: { node: number; start: number; end: number }[];
  idx: Uint32Array;
}

export class TreeGrower {
  private readonly nFeatures: number;
  private readonly stride: number;
  private readonly nChannels: number;
  private readonly idx: Uint32Array;
  private readonly tmp: Uint32Array;
  private readonly og: Float64Array;
  private readonly oh: Float64Array;
  private readonly pool: Float64Array[] = [];
  private readonly allFeatures: Int32Array;
  private readonly drawn: Int32Array;
  private readonly subtract: boolean;
  private readonly goLeft = new Uint8Array(HIST_BINS);
  private readonly finder: SplitFinder;
  private readonly right: Float64Array;

  constructor(
    private readonly data: BinnedTable,
    private readonly stats: RowStats,
    private readonly params: GrowParams,
    private readonly rng: Rng,
  ) {
    this.nFeatures = data.features.length;
    this.nChannels = channelsOf(stats);
    this.stride = this.nChannels + 2;
    this.idx = new Uint32Array(data.nRows);
    this.tmp = new Uint32Array(data.nRows);
    this.og = new Float64Array(stats.mode === 'gradient' ? data.nRows : 0);
    this.oh = new Float64Array(stats.mode === 'gradient' ? data.nRows : 0);
    this.allFeatures = Int32Array.from(data.features.keys());
    this.drawn = Int32Array.from(data.features.keys());
    this.subtract = params.maxFeatures >= this.nFeatures;
    this.finder = new SplitFinder(this.nChannels, params);
    this.right = new Float64Array(this.stride);
  }

  private takeHist(): Float64Array {
    return this.pool.pop() ?? new Float64Array(this.nFeatures * HIST_BINS * this.stride);
  }

  private release(node: OpenNode): void {
    if (node.hist) this.pool.push(node.hist);
    node.hist = null;
  }

  /** The features a split of this node may use: all, or maxFeatures drawn anew. */
  private featuresForSplit(): { list: Int32Array; count: number } {
    if (this.subtract) return { list: this.allFeatures, count: this.nFeatures };
    this.rng.sampleInPlace(this.drawn, this.params.maxFeatures);
    return { list: this.drawn, count: this.params.maxFeatures };
  }

  private histogramOf(start: number, end: number, features: { list: Int32Array; count: number }): Float64Array {
    const hist = this.takeHist();
    clearHistogram(hist, features.list, features.count, this.stride);
    buildHistogram(hist, features.list, features.count, this.data.columns, this.idx, start, end, this.stats, this.og, this.oh);
    return hist;
  }

  /** Finds the node's split (if any is allowed and gains); without subtraction its histogram is freed after. */
  private evaluate(node: OpenNode, features: { list: Int32Array; count: number }): void {
    const { maxDepth, minSamplesLeaf, minHessian } = this.params;
    const nc = this.nChannels;
    const splittable = node.depth < maxDepth && node.totals[nc + 1] >= 2 * minSamplesLeaf && node.totals[nc] >= 2 * minHessian;
    if (splittable && node.hist) {
      const finder = this.finder;
      finder.reset(nc === 1 ? 0 : majority(node.totals, nc));
      const right = this.right;
      for (let j = 0; j < features.count; j++) {
        const f = features.list[j];
        finder.scan(node.hist, f, this.data.features[f], node.totals, right);
      }
      node.split = finder.best;
    }
    if (!this.subtract || !node.split) this.release(node);
  }

  /** Moves the rows of idx[start..end) that go left to the front; returns the first right row's position. */
  private partition(node: OpenNode, split: Split): number {
    const goLeft = this.goLeft;
    if (split.leftBins) goLeft.set(split.leftBins);
    else {
      goLeft.fill(0);
      goLeft.fill(1, 0, split.bin + 1);
      goLeft[MISSING_BIN] = split.missingLeft ? 1 : 0;
    }
    const col = this.data.columns[split.feature];
    const idx = this.idx;
    const tmp = this.tmp;
    let l = node.start;
    let r = 0;
    // Branch-free: each row is written to both places and only the right cursor moves (l ≤ i, so idx[l] was read already).
    for (let i = node.start; i < node.end; i++) {
      const row = idx[i];
      const left = goLeft[col[row]];
      idx[l] = row;
      tmp[r] = row;
      l += left;
      r += 1 - left;
    }
    idx.set(tmp.subarray(0, r), l);
    return l;
  }

  /** Grows a tree on `rows` (a row may appear once; weights live in the row stats). */
  grow(rows: Uint32Array, leafValue: LeafValue, nOutputs: number): GrownTree {
    this.idx.set(rows);
    const b = new TreeBuilder(nOutputs);
    const heap: Frontier = Number.isFinite(this.params.maxLeafNodes) ? new MaxHeap() : new Stack();
    const leaves: OpenNode[] = [];
    const rootFeatures = this.featuresForSplit();
    const totals = new Float64Array(this.stride);
    const root: OpenNode = { id: b.add(), start: 0, end: rows.length, depth: 0, totals, hist: null, split: null };
    root.hist = this.histogramOf(0, rows.length, rootFeatures);
    nodeTotals(root.hist, rootFeatures.list[0], this.stride, root.totals);
    this.evaluate(root, rootFeatures);
    const settle = (node: OpenNode) => (node.split && node.split.gain > 0 ? heap.push(node) : leaves.push(node));
    settle(root);
    let nLeaves = 1;
    while (heap.size > 0 && nLeaves < this.params.maxLeafNodes) {
      const parent = heap.pop();
      const split = parent.split as Split;
      const mid = this.partition(parent, split);
      const child = (start: number, end: number, totals: Float64Array): OpenNode => {
        return { id: b.add(), start, end, depth: parent.depth + 1, totals, hist: null, split: null };
      };
      const rightTotals = parent.totals.map((v, s) => v - split.left[s]);
      const children = [child(parent.start, mid, split.left), child(mid, parent.end, rightTotals)];
      b.branch(parent.id, split, children[0].id, children[1].id, this.data.features[split.feature].edges);
      nLeaves += 1;
      if (nLeaves < this.params.maxLeafNodes) {
        this.childHistograms(parent, children);
        for (const child of children) settle(child);
      } else {
        // The last split allowed: its children stay leaves, so their histograms are not needed.
        this.release(parent);
        leaves.push(...children);
      }
    }
    while (heap.size > 0) leaves.push(heap.pop());
    const out = new Float64Array(nOutputs);
    for (const leaf of leaves) {
      this.release(leaf);
      leafValue(leaf.totals, out);
      b.leaf(leaf.id, out);
    }
    leaves.sort((x, y) => x.start - y.start);
    return { tree: b.finish(), leaves: leaves.map((l) => ({ node: l.id, start: l.start, end: l.end })), idx: this.idx };
  }

  private childHistograms(parent: OpenNode, children: OpenNode[]): void {
    if (!this.subtract) {
      for (const child of children) {
        const features = this.featuresForSplit();
        child.hist = this.histogramOf(child.start, child.end, features);
        this.evaluate(child, features);
      }
      return;
    }
    const size = (node: OpenNode) => node.end - node.start;
    const [small, large] = size(children[0]) <= size(children[1]) ? children : [children[1], children[0]];
    const all = { list: this.allFeatures, count: this.nFeatures };
    small.hist = this.histogramOf(small.start, small.end, all);
    const parentHist = parent.hist as Float64Array;
    subtractHistogram(parentHist, small.hist);
    large.hist = parentHist;
    parent.hist = null;
    this.evaluate(small, all);
    this.evaluate(large, all);
  }
}

function majority(totals: Float64Array, nChannels: number): number {
  let best = 0;
  for (let c = 1; c < nChannels; c++) if (totals[c] > totals[best]) best = c;
  return best;
}

/** Collects nodes as they are created (ids dense from 0, the root first). */
class TreeBuilder {
  private readonly feature: number[] = [];
  private readonly threshold: number[] = [];
  private readonly leftCategories: (Uint8Array | null)[] = [];
  private readonly missingLeft: number[] = [];
  private readonly left: number[] = [];
  private readonly right: number[] = [];
  private readonly values: number[] = [];

  constructor(private readonly nOutputs: number) {}

  add(): number {
    this.feature.push(-1);
    this.threshold.push(0);
    this.leftCategories.push(null);
    this.missingLeft.push(0);
    this.left.push(-1);
    this.right.push(-1);
    for (let o = 0; o < this.nOutputs; o++) this.values.push(0);
    return this.feature.length - 1;
  }

  branch(id: number, split: Split, left: number, right: number, edges: Float32Array): void {
    this.feature[id] = split.feature;
    this.missingLeft[id] = split.missingLeft ? 1 : 0;
    this.left[id] = left;
    this.right[id] = right;
    if (split.leftBins) this.leftCategories[id] = split.leftBins;
    else this.threshold[id] = split.bin < edges.length ? edges[split.bin] : Infinity;
  }

  leaf(id: number, values: Float64Array): void {
    for (let o = 0; o < this.nOutputs; o++) this.values[id * this.nOutputs + o] = values[o];
  }

  finish(): Tree {
    return {
      feature: Int32Array.from(this.feature),
      threshold: Float32Array.from(this.threshold),
      leftCategories: this.leftCategories,
      missingLeft: Uint8Array.from(this.missingLeft),
      left: Int32Array.from(this.left),
      right: Int32Array.from(this.right),
      values: Float64Array.from(this.values),
      nOutputs: this.nOutputs,
    };
  }
}
