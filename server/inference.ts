import * as ort from 'onnxruntime-node';
import type { ModelSignature } from '../common/contract';
import { errors } from '../common/errors';

export interface Prediction {
  /** Predicted class index per row. */
  classes: Int32Array;
  /** Row-major N × classLabels.length, or null when not asked for. */
  probabilities: Float32Array | null;
}

/** One session.run over N rows of features (row-major float32). */
export async function infer(
  session: ort.InferenceSession,
  signature: ModelSignature,
  rows: Float32Array,
  n: number,
  withProbabilities: boolean,
): Promise<Prediction> {
  const input = new ort.Tensor('float32', rows, [n, signature.features.length]);
  const outputs = withProbabilities ? [signature.labelOutput, signature.probabilitiesOutput] : [signature.labelOutput];
  const result = await session.run({ [signature.inputName]: input }, outputs);
  const labels = result[signature.labelOutput].data as ArrayLike<number | bigint | string>;
  const classes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = labels[i];
    const index = typeof v === 'string' ? signature.classLabels.indexOf(v) : Number(v);
    if (index < 0 || index >= signature.classLabels.length)
      throw errors.registry(`the model returned label '${String(v)}', which is not in its signature`);
    classes[i] = index;
  }
  const probabilities = withProbabilities ? (result[signature.probabilitiesOutput].data as Float32Array) : null;
  return { classes, probabilities };
}
