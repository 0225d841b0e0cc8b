// One session.run over a batch laid out by common/tensor-layout.ts, decoded by the signature: the
// prediction path of the server and the evaluation of the pipeline and the ONNX import share it,
// so a model is scored exactly as it is served. Imports onnxruntime-node: the server, the runner
// and the CLI only, never the extension (esbuild's native-module guard checks).
import * as ort from 'onnxruntime-node';
import type { ModelSignature } from './contract';
import { errors } from './errors';
import { outputNames } from './signature';
import type { InputBatch } from './tensor-layout';

export type Prediction =
  | {
      task: 'classification';
      /** Predicted class index (into classLabels) per row. */
      classes: Int32Array;
      /** Row-major N × classLabels.length, or null when not asked for or the model has none. */
      probabilities: Float32Array | null;
    }
  | {
      task: 'regression';
      /** Row-major N × targets.length. */
      values: Float32Array;
    };

/** The ONNX feeds of a batch: one tensor per input, [N, width] or [N]. */
export function toFeeds(signature: ModelSignature, batch: InputBatch): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of signature.inputs) {
    const dims = input.rank === 1 ? [batch.n] : [batch.n, input.width];
    const buffer = batch.buffers.get(input.name)!;
    const length = batch.n * input.width;
    // The batch may be longer than n rows (a reused buffer): the tensor takes exactly n.
    const data = Array.isArray(buffer)
      ? buffer.length === length
        ? buffer
        : buffer.slice(0, length)
      : buffer.length === length
        ? buffer
        : buffer.subarray(0, length);
    feeds[input.name] = new ort.Tensor(input.type, data as never, dims);
  }
  return feeds;
}

/** Label → class index, built once per signature (string and int64 labels). */
const labelIndexes = new WeakMap<ModelSignature, Map<string, number>>();

function classIndexOf(signature: ModelSignature & { task: 'classification' }, v: number | bigint | string): number {
  if (signature.labelKind === 'index') return Number(v);
  let index = labelIndexes.get(signature);
  if (!index) {
    index = new Map(signature.classLabels.map((l, i) => [l, i]));
    labelIndexes.set(signature, index);
  }
  return index.get(String(v)) ?? -1;
}

export async function infer(
  session: ort.InferenceSession,
  signature: ModelSignature,
  batch: InputBatch,
  withProbabilities: boolean,
): Promise<Prediction> {
  const n = batch.n;
  const wanted = outputNames(signature);
  const fetch = signature.task === 'classification' && !withProbabilities ? [signature.labelOutput] : wanted;
  const result = await session.run(toFeeds(signature, batch), fetch);
  if (signature.task === 'regression') {
    const out = result[signature.valueOutput];
    const expected = n * signature.targets.length;
    if (out.data.length !== expected)
      throw errors.registry(
        `output "${signature.valueOutput}" has ${out.data.length} values for ${n} rows and ${signature.targets.length} targets`,
      );
    const values = out.data instanceof Float32Array ? out.data : Float32Array.from(out.data as ArrayLike<number>);
    return { task: 'regression', values };
  }
  const labels = result[signature.labelOutput].data as ArrayLike<number | bigint | string>;
  const classes = new Int32Array(n);
  const k = signature.classLabels.length;
  for (let i = 0; i < n; i++) {
    const index = classIndexOf(signature, labels[i]);
    if (index < 0 || index >= k) throw errors.registry(`the model returned label '${String(labels[i])}', which is not in its signature`);
    classes[i] = index;
  }
  let probabilities: Float32Array | null = null;
  if (withProbabilities && signature.probabilitiesOutput) {
    const p = result[signature.probabilitiesOutput].data;
    probabilities = p instanceof Float32Array ? p : Float32Array.from(p as ArrayLike<number>);
  }
  return { task: 'classification', classes, probabilities };
}
