// Rows laid out as a model's ONNX inputs: one typed buffer per input, row-major [N, width]. The one
// place that knows how a feature's value is stored in its tensor; the server fills the buffers from
// JSON records and OIP tensors, the pipeline and the ONNX import from CSV columns. No onnxruntime
// here (the extension may import the contract's neighbours): common/inference.ts makes tensors.
import type { FeatureSpec, InputSpec, ModelSignature, TensorType } from './contract';

export type InputBuffer = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | string[];

/** N rows of every input of a signature: buffers by input name, in signature input order. */
export interface InputBatch {
  n: number;
  buffers: Map<string, InputBuffer>;
}

export function allocateBuffer(type: TensorType, length: number): InputBuffer {
  switch (type) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'bool':
      return new Uint8Array(length);
    case 'string':
      return new Array<string>(length).fill('');
  }
}

export function allocateBatch(signature: ModelSignature, n: number): InputBatch {
  return { n, buffers: new Map(signature.inputs.map((input) => [input.name, allocateBuffer(input.type, n * input.width)])) };
}

/** Where a feature's value of row i lives: buffer index = row * stride + offset. */
export interface FeatureSlot {
  feature: FeatureSpec;
  input: InputSpec;
  stride: number;
  offset: number;
}

export function featureSlots(signature: ModelSignature): FeatureSlot[] {
  const inputs = new Map(signature.inputs.map((i) => [i.name, i]));
  return signature.features.map((feature) => {
    const input = inputs.get(feature.input);
    if (!input) throw new Error(`feature "${feature.name}" feeds input "${feature.input}", which the signature does not list`);
    return { feature, input, stride: input.width, offset: feature.column };
  });
}

/**
 * What a missing value (null in a record, an empty CSV cell) becomes in its tensor, the same in
 * training, import and serving: NaN for floats (graphs impute it), '' for strings (no category is
 * '', so it reads as an unseen one), false for booleans (as the pipeline trains them). Integers have
 * none: null, and a missing integer is refused.
 */
export function missingValue(type: TensorType): number | boolean | string | null {
  if (type === 'float32' || type === 'float64') return NaN;
  if (type === 'string') return '';
  if (type === 'bool') return false;
  return null;
}

/**
 * Stores an already-checked value: a number for float and int features (NaN for a missing float),
 * a boolean for bool, a string for string. Checking what a user sent is the caller's job, with
 * the caller's words (row, field, file line).
 */
export function setValue(buffer: InputBuffer, index: number, type: TensorType, value: number | boolean | string): void {
  switch (type) {
    case 'int64':
      (buffer as BigInt64Array)[index] = BigInt(value as number);
      return;
    case 'bool':
      (buffer as Uint8Array)[index] = value ? 1 : 0;
      return;
    case 'string':
      (buffer as string[])[index] = value as string;
      return;
    default:
      (buffer as Float32Array)[index] = value as number;
  }
}

/** The value of a feature at a row, back as JSON would carry it (for logs and drift). */
export function getValue(buffer: InputBuffer, index: number, type: TensorType): number | boolean | string | null {
  switch (type) {
    case 'int64':
      return Number((buffer as BigInt64Array)[index]);
    case 'bool':
      return (buffer as Uint8Array)[index] === 1;
    case 'string':
      return (buffer as string[])[index];
    default: {
      const v = (buffer as Float32Array)[index];
      return Number.isNaN(v) ? null : v;
    }
  }
}

/** Rows [from, to) of a batch of the same signature, copied into a new batch starting at row `at` of `into`. */
export function copyRows(from: InputBatch, into: InputBatch, signature: ModelSignature, at: number): void {
  for (const input of signature.inputs) {
    const src = from.buffers.get(input.name)!;
    const dst = into.buffers.get(input.name)!;
    const w = input.width;
    if (Array.isArray(src)) {
      for (let k = 0; k < from.n * w; k++) (dst as string[])[at * w + k] = src[k];
    } else {
      (dst as Float32Array).set(src.subarray(0, from.n * w) as Float32Array, at * w);
    }
  }
}
