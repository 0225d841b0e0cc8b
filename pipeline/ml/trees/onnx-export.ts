// ONNX export of a TreeEnsemble: string category inputs go through an in-graph LabelEncoder to the codes
// the trees use (an unseen category becomes NaN, i.e. missing), are concatenated after the numeric
// input, and one ai.onnx.ml TreeEnsembleRegressor sums the leaf values into scores. Boosting adds its base
// score and takes the softmax; a forest divides by its tree count. A categorical split is a chain of
// BRANCH_EQ nodes over the smaller side's categories (ai.onnx.ml opset 3 has no set membership).
import {
  type Attribute,
  buildModel,
  floatAttr,
  floatsAttr,
  floatTensorAttr,
  intAttr,
  intsAttrs,
  ML_DOMAIN,
  type OnnxNode,
  stringAttr,
  stringsAttr,
  type TensorInfo,
} from '../onnx-model';
import type { TreeEnsemble } from './model';
import type { Tree } from './tree';

/** TensorProto.DataType FLOAT, the `to` of a Cast. */
const FLOAT = 1;

export interface TreeOnnxNames {
  /** The float32 [N, k] input of the numeric features (absent from the graph when there are none). */
  numericInput: string;
  /** One string [N, 1] input per categorical column, in column order. */
  categoricalInputs: string[];
  /** Classification: int64 [N] class index and float32 [N, nClasses] probabilities. */
  labelOutput: string;
  probabilitiesOutput: string;
  /** Regression: float32 [N, 1]. */
  valueOutput: string;
}

/** Default names: "input", the categorical columns' own names, "label", "probabilities", "value". */
export function defaultTreeOnnxNames(model: TreeEnsemble): TreeOnnxNames {
  return {
    numericInput: 'input',
    categoricalInputs: model.spec.categorical.map((c) => c.name),
    labelOutput: 'label',
    probabilitiesOutput: 'probabilities',
    valueOutput: 'value',
  };
}

/** Attribute lists of one TreeEnsembleRegressor, filled node by node. */
class EnsembleNodes {
  readonly treeIds: number[] = [];
  readonly nodeIds: number[] = [];
  readonly features: number[] = [];
  readonly values: number[] = [];
  readonly modes: string[] = [];
  readonly trueIds: number[] = [];
  readonly falseIds: number[] = [];
  readonly missingTrue: number[] = [];
  readonly target = { treeIds: [] as number[], nodeIds: [] as number[], ids: [] as number[], weights: [] as number[] };

  /** Appends a node; returns its position, to set its children once they have ids. */
  add(tree: number, id: number, mode: string, feature: number, value: number, missingTrue: boolean): number {
    this.treeIds.push(tree);
    this.nodeIds.push(id);
    this.modes.push(mode);
    this.features.push(feature);
    this.values.push(value);
    this.trueIds.push(0);
    this.falseIds.push(0);
    this.missingTrue.push(missingTrue ? 1 : 0);
    return this.treeIds.length - 1;
  }

  link(at: number, trueId: number, falseId: number): void {
    this.trueIds[at] = trueId;
    this.falseIds[at] = falseId;
  }

  /** Emits one tree in preorder, renumbering nodes (a categorical split becomes several); offset: its first score column. */
  addTree(tree: Tree, t: number, nCategoriesOf: (feature: number) => number, offset: number): void {
    let next = 0;
    const emit = (node: number): number => {
      const f = tree.feature[node];
      if (f < 0) {
        const id = next++;
        this.add(t, id, 'LEAF', 0, 0, false);
        for (let o = 0; o < tree.nOutputs; o++) {
          this.target.treeIds.push(t);
          this.target.nodeIds.push(id);
          this.target.ids.push(offset + o);
          this.target.weights.push(tree.values[node * tree.nOutputs + o]);
        }
        return id;
      }
      const missingLeft = tree.missingLeft[node] === 1;
      const cats = tree.leftCategories[node];
      if (!cats) {
        const id = next++;
        const at = this.add(t, id, 'BRANCH_LEQ', f, tree.threshold[node], missingLeft);
        this.link(at, emit(tree.left[node]), emit(tree.right[node]));
        return id;
      }
      const left: number[] = [];
      const right: number[] = [];
      for (let c = 0; c < nCategoriesOf(f); c++) (cats[c] === 1 ? left : right).push(c);
      // Test membership of the smaller side; an empty side still needs one node (code -1 never matches) for missing values.
      const chainLeft = left.length <= right.length;
      const chain = chainLeft ? left : right;
      if (chain.length === 0) chain.push(-1);
      const first = next;
      const at = chain.map((code, i) => this.add(t, next++, 'BRANCH_EQ', f, code, i === 0 && missingLeft === chainLeft));
      const leftId = emit(tree.left[node]);
      const rightId = emit(tree.right[node]);
      const [onMatch, otherwise] = chainLeft ? [leftId, rightId] : [rightId, leftId];
      at.forEach((pos, i) => this.link(pos, onMatch, i + 1 < at.length ? first + i + 1 : otherwise));
      return first;
    };
    emit(0);
  }

  attributes(nTargets: number, base: readonly number[]): Attribute[] {
    return [
      ...intsAttrs({ nodes_treeids: this.treeIds, nodes_nodeids: this.nodeIds, nodes_featureids: this.features }),
      floatsAttr('nodes_values', this.values),
      stringsAttr('nodes_modes', this.modes),
      ...intsAttrs({
        nodes_truenodeids: this.trueIds,
        nodes_falsenodeids: this.falseIds,
        nodes_missing_value_tracks_true: this.missingTrue,
      }),
      intAttr('n_targets', nTargets),
      ...intsAttrs({ target_treeids: this.target.treeIds, target_nodeids: this.target.nodeIds, target_ids: this.target.ids }),
      floatsAttr('target_weights', this.target.weights),
      floatsAttr('base_values', base),
      stringAttr('aggregate_function', 'SUM'),
      stringAttr('post_transform', 'NONE'),
    ];
  }
}

/** Nodes turning the graph's inputs into one float [N, features] tensor; returns its name. */
function featureNodes(model: TreeEnsemble, names: TreeOnnxNames, nodes: OnnxNode[]): string {
  const { numericNames, categorical } = model.spec;
  const parts: string[] = numericNames.length > 0 ? [names.numericInput] : [];
  categorical.forEach((c, j) => {
    const codes = `${names.categoricalInputs[j]}_code`;
    parts.push(codes);
    if (c.input === 'bool') {
      nodes.push({
        opType: 'Cast',
        domain: '',
        inputs: [names.categoricalInputs[j]],
        outputs: [codes],
        attributes: [intAttr('to', FLOAT)],
      });
      return;
    }
    nodes.push({
      opType: 'LabelEncoder',
      domain: ML_DOMAIN,
      inputs: [names.categoricalInputs[j]],
      outputs: [codes],
      attributes: [
        stringsAttr('keys_strings', c.categories),
        floatsAttr(
          'values_floats',
          c.categories.map((_, i) => i),
        ),
        floatAttr('default_float', NaN),
      ],
    });
  });
  if (parts.length === 1) return parts[0];
  nodes.push({ opType: 'Concat', domain: '', inputs: parts, outputs: ['tree_features'], attributes: [intAttr('axis', 1)] });
  return 'tree_features';
}

/** Serialized ONNX ModelProto of a TreeEnsemble. */
export function treeEnsembleToOnnx(model: TreeEnsemble, names: TreeOnnxNames = defaultTreeOnnxNames(model)): Uint8Array {
  const { spec } = model;
  const nodes: OnnxNode[] = [];
  const features = featureNodes(model, names, nodes);
  const ensemble = new EnsembleNodes();
  const nNumeric = spec.numericNames.length;
  const nCategoriesOf = (f: number) => spec.categorical[f - nNumeric].categories.length;
  spec.trees.forEach((tree, t) => ensemble.addTree(tree, t, nCategoriesOf, spec.treeOffset[t]));
  const scores = 'tree_scores';
  nodes.push({
    opType: 'TreeEnsembleRegressor',
    domain: ML_DOMAIN,
    inputs: [features],
    outputs: [scores],
    attributes: ensemble.attributes(spec.nOutputs, [...spec.base]),
  });
  let predicted = scores;
  if (spec.kind === 'random_forest') {
    nodes.push({
      opType: 'Constant',
      domain: '',
      inputs: [],
      outputs: ['tree_count'],
      attributes: [floatTensorAttr('value', [], [spec.trees.length])],
    });
    predicted = 'tree_mean';
    nodes.push({ opType: 'Div', domain: '', inputs: [scores, 'tree_count'], outputs: [predicted], attributes: [] });
  }
  const inputs: TensorInfo[] = [
    ...(nNumeric > 0 ? [{ name: names.numericInput, type: 'float32' as const, dims: [nNumeric] }] : []),
    ...spec.categorical.map((c, j) => ({ name: names.categoricalInputs[j], type: c.input ?? 'string', dims: [1] })),
  ];
  if (spec.task === 'regression') {
    nodes.push({ opType: 'Identity', domain: '', inputs: [predicted], outputs: [names.valueOutput], attributes: [] });
    return buildModel({ name: spec.kind, inputs, outputs: [{ name: names.valueOutput, type: 'float32', dims: [1] }], nodes });
  }
  // The label is the first maximum of the summed scores, which quantized leaf values make exact (model.ts).
  nodes.push({
    opType: 'ArgMax',
    domain: '',
    inputs: [scores],
    outputs: [names.labelOutput],
    attributes: [intAttr('axis', 1), intAttr('keepdims', 0)],
  });
  if (spec.kind === 'gradient_boosting') {
    nodes.push({ opType: 'Softmax', domain: '', inputs: [scores], outputs: [names.probabilitiesOutput], attributes: [intAttr('axis', 1)] });
  } else {
    nodes.push({ opType: 'Identity', domain: '', inputs: [predicted], outputs: [names.probabilitiesOutput], attributes: [] });
  }
  return buildModel({
    name: spec.kind,
    inputs,
    outputs: [
      { name: names.labelOutput, type: 'int64', dims: [] },
      { name: names.probabilitiesOutput, type: 'float32', dims: [spec.nOutputs] },
    ],
    nodes,
  });
}
