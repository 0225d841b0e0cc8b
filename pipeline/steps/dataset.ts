// The artifact the ETL step writes and later steps read: dataset.json (plus train.csv and
// test.csv for steps written in other languages).

export interface Split {
  X: number[][];
  /** Class index into classLabels. */
  y: number[];
}

export interface PreparedDataset {
  source: { path: string; sha256: string };
  features: string[];
  target: string;
  classLabels: string[];
  /** Observed range of each feature over the kept rows. */
  ranges: { min: number; max: number }[];
  rowsRead: number;
  rowsDropped: number;
  train: Split;
  test: Split;
}

export const DATASET = 'dataset.json';
export const MODEL_FILE = 'model.onnx';
/** Labels the in-memory model gives the test rows, as class names; evaluate checks ONNX parity against them. */
export const EXPECTED_LABELS = 'expected_labels.json';
export const EVALUATION = 'evaluation.json';
