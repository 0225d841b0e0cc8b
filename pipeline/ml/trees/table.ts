// The trainers' input: a columnar table whose layout is the ONNX model's (one float32 [N, k] numeric input,
// one string input per categorical column), with NaN or code -1 for a missing value.

export interface CategoricalColumn {
  name: string;
  /** The categories seen in training, in code order. */
  categories: string[];
  /** One code per row: an index into categories, or -1 for a missing (or unseen) value. */
  codes: Int32Array;
  /** The ONNX input carrying it: strings (default; a LabelEncoder codes them) or booleans (cast to 0/1, categories false, true). */
  input?: 'string' | 'bool';
}

export interface TreeTable {
  nRows: number;
  /** Numeric feature names, in column order. */
  numericNames: string[];
  /** Row-major [nRows, numericNames.length], float32 as the ONNX input is; NaN is missing. */
  numeric: Float32Array;
  categorical: CategoricalColumn[];
}

export type TreeTarget = { task: 'classification'; y: Int32Array; nClasses: number } | { task: 'regression'; y: Float64Array };

/** The number of features the trees see: numeric ones first, then the categorical ones. */
export function featureCount(table: TreeTable): number {
  return table.numericNames.length + table.categorical.length;
}

/** Throws unless the table's arrays have the sizes it declares and the target has one value per row. */
export function checkTable(table: TreeTable, target?: TreeTarget): void {
  const k = table.numericNames.length;
  if (table.numeric.length !== table.nRows * k) {
    throw new Error(`numeric block has ${table.numeric.length} values, expected ${table.nRows} rows × ${k}`);
  }
  for (const c of table.categorical) {
    if (c.codes.length !== table.nRows) throw new Error(`column ${c.name} has ${c.codes.length} codes for ${table.nRows} rows`);
  }
  if (featureCount(table) === 0) throw new Error('the table has no feature columns');
  if (!target) return;
  if (target.y.length !== table.nRows) throw new Error(`the target has ${target.y.length} values for ${table.nRows} rows`);
  if (table.nRows === 0) throw new Error('training data is empty');
  if (target.task === 'classification') {
    if (!Number.isInteger(target.nClasses) || target.nClasses < 2) throw new Error(`nClasses must be ≥ 2, got ${target.nClasses}`);
    for (let i = 0; i < target.y.length; i++) {
      if (target.y[i] < 0 || target.y[i] >= target.nClasses) throw new Error(`label ${target.y[i]} of row ${i} is out of range`);
    }
  } else {
    for (let i = 0; i < target.y.length; i++) {
      if (!Number.isFinite(target.y[i])) throw new Error(`target value of row ${i} is not a finite number`);
    }
  }
}

/** The rows `rows` of a table (a split of it). */
export function selectRows(table: TreeTable, rows: Uint32Array): TreeTable {
  const k = table.numericNames.length;
  const numeric = new Float32Array(rows.length * k);
  for (let i = 0; i < rows.length; i++) numeric.set(table.numeric.subarray(rows[i] * k, rows[i] * k + k), i * k);
  return {
    nRows: rows.length,
    numericNames: table.numericNames,
    numeric,
    categorical: table.categorical.map((c) => ({ ...c, codes: pick(c.codes, rows) })),
  };
}

function pick(codes: Int32Array, rows: Uint32Array): Int32Array {
  const out = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = codes[rows[i]];
  return out;
}

/** The target values of the rows `rows`. */
export function selectTarget(target: TreeTarget, rows: Uint32Array): TreeTarget {
  if (target.task === 'classification') {
    const y = new Int32Array(rows.length);
    for (let i = 0; i < rows.length; i++) y[i] = target.y[rows[i]];
    return { task: 'classification', y, nClasses: target.nClasses };
  }
  const y = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) y[i] = target.y[rows[i]];
  return { task: 'regression', y };
}
