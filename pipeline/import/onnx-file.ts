// Reads an ONNX file trained elsewhere: its inputs and outputs with element types and shapes, and
// the one rewrite the import makes. scikit-learn's default probability output is a ZipMap (a
// sequence of maps), which onnxruntime-node cannot return ("Non tensor type is temporarily not
// supported", microsoft/onnxruntime#8007): the ZipMap node is removed and its input tensor becomes
// the probabilities output, its class labels kept for the signature. Decoding and re-encoding with
// the current ONNX schema (common/onnx) keeps every byte the rewrite does not touch.
import type { TensorType } from '../../common/contract';
import { errors } from '../../common/errors';
import { onnx } from '../../common/onnx/onnx.js';

/** A graph input or output. `type` is null for a non-tensor (a sequence, a map…), described in `kind`. */
export interface Port {
  name: string;
  /** 'tensor', or what it is instead: "sequence of map(string, float)", "float16 tensor"… */
  kind: string;
  type: TensorType | null;
  /** Every dimension, the batch one included: a number, or null for a symbolic or unknown one. */
  shape: (number | null)[] | null;
}

/** What a ZipMap rewrite found: the tensor that is now the probabilities output, and the class order. */
export interface ZipMapLabels {
  /** The removed ZipMap's output (e.g. output_probability). */
  removed: string;
  /** Its input, now a graph output (float [N, classes]). */
  probabilities: string;
  labelKind: 'string' | 'int64';
  labels: string[];
}

export interface OnnxFile {
  inputs: Port[];
  outputs: Port[];
  /** Class labels declared by an ai.onnx.ml classifier node, by the name of the label output it produces. */
  declaredLabels: Map<string, { labelKind: 'string' | 'int64'; labels: string[] }>;
  zipMap: ZipMapLabels | null;
  /** The model as it will be registered (rewritten when zipMap is set, else the file's own bytes). */
  bytes: Uint8Array;
}

const { DataType } = onnx.TensorProto;
const TENSOR_TYPES = new Map<number, TensorType>([
  [DataType.FLOAT, 'float32'],
  [DataType.DOUBLE, 'float64'],
  [DataType.INT64, 'int64'],
  [DataType.INT32, 'int32'],
  [DataType.BOOL, 'bool'],
  [DataType.STRING, 'string'],
]);

function elemName(elemType: number | null | undefined): string {
  return (DataType[elemType ?? 0] ?? `type ${elemType}`).toLowerCase();
}

/** A type in words, the way an error should name it: "sequence of map(string, float)". */
function describeType(t: onnx.ITypeProto | null | undefined): string {
  if (!t) return 'no type';
  if (t.tensorType) return `${elemName(t.tensorType.elemType)} tensor`;
  if (t.sequenceType) return `sequence of ${describeType(t.sequenceType.elemType)}`;
  if (t.mapType) return `map(${elemName(t.mapType.keyType)}, ${describeType(t.mapType.valueType).replace(/ tensor$/, '')})`;
  if (t.optionalType) return `optional ${describeType(t.optionalType.elemType)}`;
  if (t.sparseTensorType) return `sparse ${elemName(t.sparseTensorType.elemType)} tensor`;
  return 'opaque value';
}

function dimValue(d: onnx.TensorShapeProto.IDimension): number | null {
  if (d.dimValue === null || d.dimValue === undefined) return null;
  const n = Number(d.dimValue);
  return n > 0 ? n : null;
}

function portOf(info: onnx.IValueInfoProto): Port {
  const name = info.name ?? '';
  const tensor = info.type?.tensorType;
  const type = tensor ? (TENSOR_TYPES.get(tensor.elemType ?? 0) ?? null) : null;
  const kind = type ? 'tensor' : describeType(info.type);
  const shape = tensor?.shape ? (tensor.shape.dim ?? []).map(dimValue) : null;
  return { name, kind, type, shape };
}

function stringsOf(attr: onnx.IAttributeProto | undefined): string[] {
  const decoder = new TextDecoder();
  return (attr?.strings ?? []).map((s) => decoder.decode(s));
}

/** classlabels_strings or classlabels_int64s of an ai.onnx.ml node (classifiers and ZipMap), if it has them. */
function classLabelsOf(node: onnx.INodeProto): { labelKind: 'string' | 'int64'; labels: string[] } | null {
  const attrs = node.attribute ?? [];
  const strings = attrs.find((a) => a.name === 'classlabels_strings');
  if (strings && (strings.strings ?? []).length > 0) return { labelKind: 'string', labels: stringsOf(strings) };
  const ints = attrs.find((a) => a.name === 'classlabels_int64s' || a.name === 'classlabels_ints');
  if (ints && (ints.ints ?? []).length > 0) return { labelKind: 'int64', labels: (ints.ints ?? []).map((v) => String(v)) };
  return null;
}

function decode(file: string, bytes: Uint8Array): onnx.ModelProto {
  try {
    const model = onnx.ModelProto.decode(bytes);
    if (!model.graph) throw new Error('it has no graph');
    return model;
  } catch (err) {
    throw errors.onnxFile(file, `not an ONNX model (${(err as Error).message})`);
  }
}

/**
 * Removes the ZipMap nodes that produce graph outputs: the node's input tensor takes the output's
 * place (float [N, classes]). Its class labels are returned. One ZipMap at most: scikit-learn
 * classifiers have one probability output.
 */
function rewriteZipMap(file: string, graph: onnx.IGraphProto): ZipMapLabels | null {
  const nodes = graph.node ?? [];
  const outputs = graph.output ?? [];
  const zipMaps = nodes.filter((n) => n.opType === 'ZipMap' && outputs.some((o) => o.name === n.output?.[0]));
  if (zipMaps.length === 0) return null;
  if (zipMaps.length > 1) throw errors.onnxFile(file, `it has ${zipMaps.length} ZipMap outputs; one is supported`);
  const node = zipMaps[0];
  const removed = node.output![0];
  const probabilities = node.input?.[0] ?? '';
  const labels = classLabelsOf(node);
  if (!labels) throw errors.onnxFile(file, `its ZipMap node "${node.name ?? removed}" declares no class labels`);
  if (outputs.some((o) => o.name === probabilities))
    throw errors.onnxFile(file, `its ZipMap input "${probabilities}" is already an output`);
  const known = (graph.valueInfo ?? []).find((v) => v.name === probabilities);
  const info = onnx.ValueInfoProto.create({
    name: probabilities,
    type: known?.type?.tensorType
      ? known.type
      : {
          tensorType: {
            elemType: DataType.FLOAT,
            shape: { dim: [{ dimParam: 'N' }, { dimValue: labels.labels.length }] },
          },
        },
  });
  graph.node = nodes.filter((n) => n !== node);
  graph.output = outputs.map((o) => (o.name === removed ? info : o));
  return { removed, probabilities, ...labels };
}

/** Reads an ONNX file's ports, rewriting a ZipMap output; any other non-tensor output is refused, named. */
export function readOnnxFile(file: string, bytes: Uint8Array): OnnxFile {
  const model = decode(file, bytes);
  const graph = model.graph!;
  const zipMap = rewriteZipMap(file, graph);
  // IR versions before 4 list initializers (weights) among the inputs too: they are not fed.
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !weights.has(i.name)).map(portOf);
  const outputs = (graph.output ?? []).map(portOf);
  for (const port of [...inputs, ...outputs]) {
    if (port.type === null) {
      const side = inputs.includes(port) ? 'input' : 'output';
      throw errors.onnxPort(file, side, port.name, port.kind);
    }
  }
  const declaredLabels = new Map<string, { labelKind: 'string' | 'int64'; labels: string[] }>();
  for (const node of graph.node ?? []) {
    const labels = node.opType !== 'ZipMap' ? classLabelsOf(node) : null;
    if (labels && node.output?.[0]) declaredLabels.set(node.output[0], labels);
  }
  return { inputs, outputs, declaredLabels, zipMap, bytes: zipMap ? onnx.ModelProto.encode(model).finish() : bytes };
}
