// The artifact the ETL step writes and later steps read: dataset.json, typed and columnar (plus
// train.csv and test.csv for steps written in other languages).
import type { ModelTask } from '../../common/contract';
import type { Column, ColumnType } from '../ml/table';

/** A feature of the dataset, as the train split shows it. */
export interface DatasetFeature {
  name: string;
  type: ColumnType;
  /** String and boolean features: the categories of the train split (categoriesOf's order). */
  categories?: string[];
  /** Number features: the range of the train split's present values. */
  min?: number;
  max?: number;
  /** Missing cells over the kept rows (train and test): where > 0, the signature accepts null for it. */
  missing: number;
}

export interface Split {
  rows: number;
  /** One column per feature, in PreparedDataset.features order; missing cells are null. */
  columns: Column[];
  /** Classification: class index into classLabels. Regression: the target's value. */
  y: number[];
  /** The source file's line of each row, for messages. */
  lines: number[];
}

export interface PreparedDataset {
  /** 2: typed columns (format 1 was a float matrix X). */
  format: 2;
  source: { path: string; sha256: string };
  task: ModelTask;
  features: DatasetFeature[];
  target: string;
  /** Classification: the class names, sorted (categoriesOf's order); regression: []. */
  classLabels: string[];
  rowsRead: number;
  /** Rows dropped because their target was missing, or a number column held a stray text there. */
  rowsDropped: number;
  train: Split;
  test: Split;
}

export const DATASET = 'dataset.json';
export const MODEL_FILE = 'model.onnx';
/** Labels the in-memory model gives the test rows, as class names; evaluate checks ONNX parity against them. */
export const EXPECTED_LABELS = 'expected_labels.json';
/** Values the in-memory regression model gives the test rows; evaluate checks ONNX parity against them. */
export const EXPECTED_VALUES = 'expected_values.json';
export const EVALUATION = 'evaluation.json';
