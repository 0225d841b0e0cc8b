import { RandomForestClassifier } from 'ml-random-forest';

import { argmax, checkFeatureRows, checkTrainingData, type Checkpoint, type Classifier, type OnnxNames } from './classifier';
import {
  type Attribute,
  classifierModelOf,
  floatsAttr,
  floatTensorAttr,
  intAttr,
  intsAttrs,
  ML_DOMAIN,
  type OnnxNode,
  stringAttr,
  stringsAttr,
} from './onnx-model';

export interface RandomForestOptions {
  nEstimators: number;
  maxDepth: number;
  seed: number;
  /** Features drawn (without replacement) for each tree: a fraction in (0, 1] (so 1 means all), or an integer count ≥ 2. */
  maxFeatures: number;
  /** Called before each tree is trained. */
  checkpoint?: Checkpoint;
}

/** The parts of an ml-cart node we read (ml-cart does not export its TreeNode type). */
interface CartNode {
  splitColumn?: number;
  splitValue?: number;
  left?: CartNode;
  right?: CartNode;
  /** Leaf class frequencies, a 1×k ml-matrix; k is 1 + the largest label this tree saw, so it may be < nClasses. */
  distribution?: { to1DArray(): number[] };
}

type TreeNode = { leaf: false; feature: number; threshold: number; left: number; right: number } | { leaf: true; vote: number };

/** Node ids are indexes in preorder, so the root is 0 and ids are dense, as ONNX tree ensembles require. */
type Tree = TreeNode[];

/** The smallest float32 ≥ v, so that for every float32 x: x < v exactly when x < ceilFloat32(v). */
function ceilFloat32(v: number): number {
  const nearest = Math.fround(v);
  if (nearest >= v) return nearest;
  const bits = new Int32Array(Float32Array.of(nearest).buffer);
  // Float32 bit patterns are ordered by magnitude: one step up is +1 for positives, -1 for negatives.
  bits[0] += nearest > 0 || Object.is(nearest, 0) ? 1 : -1;
  return new Float32Array(bits.buffer)[0];
}

/**
 * Flattens an ml-cart tree trained on a column subset into real-column nodes, each leaf voting
 * for the argmax of its distribution (what ml-cart's own predict returns).
 */
function flattenTree(root: CartNode, columns: readonly number[]): Tree {
  const nodes: Tree = [];
  const visit = (node: CartNode): number => {
    const id = nodes.length;
    // ml-cart treats a node as a branch only when it has both children, even if it recorded a split.
    if (node.left && node.right && node.splitColumn !== undefined && node.splitValue !== undefined) {
      // ONNX holds float32 thresholds; rounding up keeps ml-cart's double comparison exact for float32 inputs.
      const threshold = ceilFloat32(node.splitValue);
      const branch = { leaf: false as const, feature: columns[node.splitColumn], threshold, left: -1, right: -1 };
      nodes.push(branch);
      branch.left = visit(node.left);
      branch.right = visit(node.right);
    } else if (node.distribution) {
      nodes.push({ leaf: true, vote: argmax(node.distribution.to1DArray()) });
    } else {
      throw new Error('ml-cart node is neither a branch nor a leaf');
    }
    return id;
  };
  visit(root);
  return nodes;
}

/**
 * The class a tree votes for. Inputs are rounded to float32 first, as the ONNX model receives them:
 * a value such as 1.7 against ml-cart's split (1.6 + 1.8) / 2 = 1.7000000000000002 goes left in double
 * but right in float32, and the served model must decide like this one.
 */
function treeVote(tree: Tree, row: readonly number[]): number {
  let node = tree[0];
  while (!node.leaf) {
    node = tree[Math.fround(row[node.feature]) < node.threshold ? node.left : node.right];
  }
  return node.vote;
}

class RandomForestModel implements Classifier {
  readonly kind = 'random_forest';

  constructor(
    readonly nFeatures: number,
    readonly nClasses: number,
    private readonly trees: Tree[],
  ) {}

  predictProba(X: number[][]): number[][] {
    checkFeatureRows(X, this.nFeatures);
    return X.map((row) => {
      const votes = new Array<number>(this.nClasses).fill(0);
      for (const tree of this.trees) votes[treeVote(tree, row)] += 1;
      return votes.map((v) => v / this.trees.length);
    });
  }

  predict(X: number[][]): number[] {
    return this.predictProba(X).map((p) => argmax(p));
  }

  /**
   * ONNX graph: TreeEnsembleRegressor summing one vote per tree into a [N, nClasses] count, then
   * ArgMax (first max) for the label and Div by the tree count for the probabilities.
   * Not TreeEnsembleClassifier: onnxruntime special-cases two classes (the label becomes "class 1 got
   * any vote", scores come back as [-s, s]), and float 1/n leaf weights drift when summed and can
   * round exact vote ties apart. Integer vote counts keep labels exact for any class count.
   */
  toOnnx(names: OnnxNames): Uint8Array {
    return classifierModelOf(this, names, this.onnxNodes(names));
  }

  onnxNodes(names: OnnxNames): OnnxNode[] {
    const votes = 'forest_votes';
    const treeCount = 'forest_tree_count';
    return [
      {
        opType: 'TreeEnsembleRegressor',
        domain: ML_DOMAIN,
        inputs: [names.inputName],
        outputs: [votes],
        attributes: this.ensembleAttributes(),
      },
      {
        opType: 'ArgMax',
        domain: '',
        inputs: [votes],
        outputs: [names.labelOutput],
        attributes: [intAttr('axis', 1), intAttr('keepdims', 0)],
      },
      {
        opType: 'Constant',
        domain: '',
        inputs: [],
        outputs: [treeCount],
        attributes: [floatTensorAttr('value', [], [this.trees.length])],
      },
      { opType: 'Div', domain: '', inputs: [votes, treeCount], outputs: [names.probabilitiesOutput], attributes: [] },
    ];
  }

  private ensembleAttributes(): Attribute[] {
    const nodes = {
      treeIds: [] as number[],
      nodeIds: [] as number[],
      features: [] as number[],
      values: [] as number[],
      modes: [] as string[],
      trueIds: [] as number[],
      falseIds: [] as number[],
    };
    const targets = { treeIds: [] as number[], nodeIds: [] as number[], ids: [] as number[], weights: [] as number[] };
    this.trees.forEach((tree, t) => {
      tree.forEach((node, id) => {
        nodes.treeIds.push(t);
        nodes.nodeIds.push(id);
        if (node.leaf) {
          nodes.modes.push('LEAF');
          nodes.features.push(0);
          nodes.values.push(0);
          nodes.trueIds.push(0);
          nodes.falseIds.push(0);
          targets.treeIds.push(t);
          targets.nodeIds.push(id);
          targets.ids.push(node.vote);
          targets.weights.push(1);
        } else {
          // ml-cart sends x < splitValue to the left child; ONNX takes the "true" node when the comparison holds.
          nodes.modes.push('BRANCH_LT');
          nodes.features.push(node.feature);
          nodes.values.push(node.threshold);
          nodes.trueIds.push(node.left);
          nodes.falseIds.push(node.right);
        }
      });
    });
    return [
      // Kept in their former order, so the serialized model stays byte-for-byte the same.
      ...intsAttrs({ nodes_treeids: nodes.treeIds, nodes_nodeids: nodes.nodeIds, nodes_featureids: nodes.features }),
      floatsAttr('nodes_values', nodes.values),
      stringsAttr('nodes_modes', nodes.modes),
      ...intsAttrs({ nodes_truenodeids: nodes.trueIds, nodes_falsenodeids: nodes.falseIds }),
      intAttr('n_targets', this.nClasses),
      ...intsAttrs({ target_treeids: targets.treeIds, target_nodeids: targets.nodeIds, target_ids: targets.ids }),
      floatsAttr('target_weights', targets.weights),
      stringAttr('aggregate_function', 'SUM'),
      stringAttr('post_transform', 'NONE'),
    ];
  }
}

/**
 * ml-random-forest trains every tree inside one `train` call, with no hook. Its train() assigns a new
 * `estimators` array and then stores each tree in `estimators[i]` just before training it: a proxy on
 * that array is where the checkpoint goes. This reads the library's internals, hence its exact pin in
 * package.json; test/unit/ml-trainers.test.ts fails if an upgrade moves them.
 */
function checkpointBetweenTrees(forest: object, checkpoint: Checkpoint): void {
  let estimators: unknown[] = [];
  Object.defineProperty(forest, 'estimators', {
    configurable: true,
    enumerable: true,
    get: () => estimators,
    set: (value: unknown[]) => {
      estimators = new Proxy(value, {
        set(target, key, tree) {
          checkpoint();
          return Reflect.set(target, key, tree);
        },
      });
    },
  });
}

/**
 * Bagged CART forest (ml-random-forest). Probabilities are the share of trees voting for each class;
 * votes are counted here rather than with the forest's predict, whose tie-breaking depends on vote order.
 */
export function trainRandomForest(X: number[][], y: number[], nClasses: number, opts: RandomForestOptions): Classifier {
  checkTrainingData(X, y, nClasses);
  if (!Number.isInteger(opts.nEstimators) || opts.nEstimators < 1) {
    throw new Error(`nEstimators must be a positive integer, got ${opts.nEstimators}`);
  }
  const forest = new RandomForestClassifier({
    nEstimators: opts.nEstimators,
    maxFeatures: opts.maxFeatures,
    replacement: false,
    seed: opts.seed,
    // OOB scoring fails on small forests ("input must not be empty") and is not used here.
    noOOB: true,
    treeOptions: { maxDepth: opts.maxDepth },
  });
  if (opts.checkpoint) checkpointBetweenTrees(forest, opts.checkpoint);
  forest.train(X, y);
  const estimators = forest.estimators as unknown as { root: CartNode }[];
  const columns = forest.indexes as number[][];
  const trees = estimators.map((estimator, t) => flattenTree(estimator.root, columns[t]));
  return new RandomForestModel(X[0].length, nClasses, trees);
}
