// The one place that writes ONNX protobuf: trainers describe their operator nodes, this builds the ModelProto.
import { onnx } from 'onnx-proto';

import type { TensorType } from '../../common/contract';
import type { OnnxNames } from './classifier';

export type Attribute = onnx.IAttributeProto;

export const ML_DOMAIN = 'ai.onnx.ml';

const IR_VERSION = 8;
const DEFAULT_OPSET = 17;
const ML_OPSET = 3;
const BATCH_DIM = 'N';

const { AttributeType } = onnx.AttributeProto;
const { DataType } = onnx.TensorProto;
const utf8 = new TextEncoder();

export function intAttr(name: string, value: number): Attribute {
  return { name, type: AttributeType.INT, i: value };
}

export function stringAttr(name: string, value: string): Attribute {
  return { name, type: AttributeType.STRING, s: utf8.encode(value) };
}

export function floatAttr(name: string, value: number): Attribute {
  return { name, type: AttributeType.FLOAT, f: value };
}

export function intsAttr(name: string, values: readonly number[]): Attribute {
  return { name, type: AttributeType.INTS, ints: [...values] };
}

export function floatsAttr(name: string, values: readonly number[]): Attribute {
  return { name, type: AttributeType.FLOATS, floats: [...values] };
}

/** One INTS attribute per entry, in the object's order (several id lists of one operator). */
export function intsAttrs(lists: Record<string, readonly number[]>): Attribute[] {
  return Object.entries(lists).map(([name, values]) => intsAttr(name, values));
}

export function stringsAttr(name: string, values: readonly string[]): Attribute {
  return { name, type: AttributeType.STRINGS, strings: values.map((v) => utf8.encode(v)) };
}

/** A float32 tensor attribute (e.g. the `value` of a Constant node). */
export function floatTensorAttr(name: string, dims: readonly number[], values: readonly number[]): Attribute {
  return { name, type: AttributeType.TENSOR, t: { dims: [...dims], dataType: DataType.FLOAT, floatData: [...values] } };
}

export interface OnnxNode {
  opType: string;
  /** '' (default ONNX domain) or ML_DOMAIN. */
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Attribute[];
}

export interface ClassifierGraph {
  /** Graph name, e.g. "random_forest". */
  name: string;
  names: OnnxNames;
  nFeatures: number;
  nClasses: number;
  /** Nodes in topological order; together they must produce names.labelOutput and names.probabilitiesOutput. */
  nodes: OnnxNode[];
}

/** A graph input or output: a tensor of one element type; the first dimension is the batch (N). */
export interface TensorInfo {
  name: string;
  type: TensorType;
  /** Dimensions after the batch one: [] for [N], [F] for [N, F]. */
  dims: number[];
}

const ELEM_TYPE: Record<TensorType, number> = {
  float32: DataType.FLOAT,
  float64: DataType.DOUBLE,
  int64: DataType.INT64,
  int32: DataType.INT32,
  bool: DataType.BOOL,
  string: DataType.STRING,
};

function valueInfo(t: TensorInfo): onnx.IValueInfoProto {
  const dim = [{ dimParam: BATCH_DIM }, ...t.dims.map((d) => ({ dimValue: d }))];
  return { name: t.name, type: { tensorType: { elemType: ELEM_TYPE[t.type], shape: { dim } } } };
}

export interface Graph {
  /** Graph name, e.g. "random_forest". */
  name: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Nodes in topological order; together they must produce every output. */
  nodes: OnnxNode[];
}

/** Serialized ModelProto of any graph of this project's exporters (default domain opset 17, ai.onnx.ml 3). */
export function buildModel(graph: Graph): Uint8Array {
  const io = [...graph.inputs, ...graph.outputs].map((t) => t.name);
  if (new Set(io).size !== io.length || io.some((n) => n.length === 0)) {
    throw new Error(`ONNX input/output names must be distinct and non-empty: ${JSON.stringify(io)}`);
  }
  const inputs = new Set(graph.inputs.map((t) => t.name));
  const produced = graph.nodes.flatMap((n) => n.outputs);
  const clash = produced.find((name, i) => inputs.has(name) || produced.indexOf(name) !== i);
  if (clash !== undefined) throw new Error(`ONNX tensor name "${clash}" is used twice in graph ${graph.name}`);
  const missing = graph.outputs.find((o) => !produced.includes(o.name));
  if (missing) throw new Error(`no node of graph ${graph.name} produces output "${missing.name}"`);
  const model: onnx.IModelProto = {
    irVersion: IR_VERSION,
    producerName: 'mlops-template',
    opsetImport: [
      { domain: '', version: DEFAULT_OPSET },
      { domain: ML_DOMAIN, version: ML_OPSET },
    ],
    graph: {
      name: graph.name,
      node: graph.nodes.map((n, i) => ({
        name: `${n.opType}_${i}`,
        opType: n.opType,
        domain: n.domain,
        input: n.inputs,
        output: n.outputs,
        attribute: n.attributes,
      })),
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

/** classifierModel() for a trained classifier: its kind names the graph, its sizes shape the input and outputs. */
export function classifierModelOf(
  classifier: { readonly kind: string; readonly nFeatures: number; readonly nClasses: number },
  names: OnnxNames,
  nodes: OnnxNode[],
): Uint8Array {
  return classifierModel({ name: classifier.kind, names, nFeatures: classifier.nFeatures, nClasses: classifier.nClasses, nodes });
}

/**
 * Serialized ModelProto of a classifier: input float32 [N, nFeatures]; outputs int64 label [N]
 * and float32 probabilities [N, nClasses].
 */
export function classifierModel(graph: ClassifierGraph): Uint8Array {
  const { names } = graph;
  return buildModel({
    name: graph.name,
    inputs: [{ name: names.inputName, type: 'float32', dims: [graph.nFeatures] }],
    outputs: [
      { name: names.labelOutput, type: 'int64', dims: [] },
      { name: names.probabilitiesOutput, type: 'float32', dims: [graph.nClasses] },
    ],
    nodes: graph.nodes,
  });
}
