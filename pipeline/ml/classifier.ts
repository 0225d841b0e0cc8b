import type { OnnxNode } from './onnx-model';

/** Names of the ONNX graph's input and outputs, as recorded in the model signature. */
export interface OnnxNames {
  inputName: string;
  labelOutput: string;
  probabilitiesOutput: string;
}

export interface Classifier {
  readonly kind: 'random_forest' | 'logistic_regression';
  readonly nFeatures: number;
  readonly nClasses: number;
  /** Class probabilities per row, length nClasses each. */
  predictProba(X: number[][]): number[][];
  /** argmax of predictProba; ties go to the lowest class index (matches ONNX runtime). */
  predict(X: number[][]): number[];
  /** Serialized ONNX ModelProto: input float32 [N, nFeatures] named names.inputName; outputs
   *  names.labelOutput int64 [N] (class index 0..nClasses-1) and names.probabilitiesOutput float32 [N, nClasses]. No ZipMap. */
  toOnnx(names: OnnxNames): Uint8Array;
  /** The classifier's nodes alone, from names.inputName (float32 [N, nFeatures]) to its two outputs. */
  onnxNodes(names: OnnxNames): OnnxNode[];
}

/**
 * Called by a trainer between iterations (epochs, trees): it throws to stop training, which is how a
 * cancelled run stops a CPU-bound step (StepContext.throwIfCancelled).
 */
export type Checkpoint = () => void;

/** Index of the first maximum. */
export function argmax(row: ArrayLike<number>): number {
  if (row.length === 0) throw new Error('argmax of an empty row');
  let best = 0;
  for (let i = 1; i < row.length; i++) {
    if (row[i] > row[best]) best = i;
  }
  return best;
}

/** Throws unless X is a non-empty rectangular matrix of finite numbers, with one label in 0..nClasses-1 per row. */
export function checkTrainingData(X: number[][], y: number[], nClasses: number): void {
  if (X.length === 0) throw new Error('training data is empty');
  if (X.length !== y.length) throw new Error(`X has ${X.length} rows but y has ${y.length} labels`);
  if (!Number.isInteger(nClasses) || nClasses < 2) throw new Error(`nClasses must be an integer ≥ 2, got ${nClasses}`);
  checkFeatureRows(X, X[0].length);
  if (X[0].length === 0) throw new Error('training data has no feature columns');
  y.forEach((label, i) => {
    if (!Number.isInteger(label) || label < 0 || label >= nClasses) {
      throw new Error(`label ${label} of row ${i} is not a class index in 0..${nClasses - 1}`);
    }
  });
}

/** Throws unless every row has nFeatures finite numbers. */
export function checkFeatureRows(X: number[][], nFeatures: number): void {
  X.forEach((row, i) => {
    if (row.length !== nFeatures) throw new Error(`row ${i} has ${row.length} features, expected ${nFeatures}`);
    if (!row.every(Number.isFinite)) throw new Error(`row ${i} has a non-finite feature value`);
  });
}
