// A split of the typed dataset as the tree trainers' table, laid out like the graph's inputs
// (ml/model-inputs.ts): number features in one float32 block (missing → NaN), each string feature a
// categorical column coded by the train split's categories (missing or unseen → -1, as the graph's
// LabelEncoder makes them), each boolean feature a 0/1 column (missing → false, as the server lays it out).
import { numericInputName, OUTPUTS } from '../ml/model-inputs';
import type { TrainedModel } from '../ml/trained-model';
import type { TreeEnsemble } from '../ml/trees/model';
import { treeEnsembleToOnnx } from '../ml/trees/onnx-export';
import type { TreeTable } from '../ml/trees/table';
import type { PreparedDataset, Split } from './dataset';

export function splitTable(data: PreparedDataset, split: Split): TreeTable {
  const numeric = data.features.map((f, j) => ({ f, j })).filter(({ f }) => f.type === 'number');
  const block = new Float32Array(split.rows * numeric.length);
  numeric.forEach(({ j }, c) => {
    const values = split.columns[j].values as (number | null)[];
    for (let i = 0; i < split.rows; i++) block[i * numeric.length + c] = values[i] ?? NaN;
  });
  const categorical = data.features
    .map((f, j) => ({ f, j }))
    .filter(({ f }) => f.type !== 'number')
    .map(({ f, j }) => {
      const values = split.columns[j].values;
      const codes = new Int32Array(split.rows);
      if (f.type === 'boolean') {
        for (let i = 0; i < split.rows; i++) codes[i] = values[i] === true ? 1 : 0;
        return { name: f.name, categories: ['false', 'true'], codes, input: 'bool' as const };
      }
      const categories = f.categories ?? [];
      const index = new Map(categories.map((c, k) => [c, k]));
      for (let i = 0; i < split.rows; i++) codes[i] = values[i] === null ? -1 : (index.get(String(values[i])) ?? -1);
      return { name: f.name, categories, codes, input: 'string' as const };
    });
  return { nRows: split.rows, numericNames: numeric.map(({ f }) => f.name), numeric: block, categorical };
}

/** A tree ensemble fitted on `data` as the export step's TrainedModel: its graph reads the model-inputs layout as it is. */
export function treeModel(trees: TreeEnsemble, data: PreparedDataset): TrainedModel {
  return {
    task: trees.spec.task,
    kind: trees.kind,
    toOnnx: (dataset) => {
      const categoricalInputs = dataset.features.filter((f) => f.type !== 'number').map((f) => f.name);
      return treeEnsembleToOnnx(trees, { ...OUTPUTS, numericInput: numericInputName(dataset.features), categoricalInputs });
    },
    // The split is laid out by the features of the dataset the trees were trained on.
    predict: (split) => {
      const p = trees.predict(splitTable(data, split));
      return Array.from(p.labels ?? p.values);
    },
  };
}
