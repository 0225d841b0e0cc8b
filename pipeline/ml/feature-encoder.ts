// The front of every graph this project's trainers export: from the model-inputs layout to one
// float32 [N, width] matrix, in the graph (so the served model takes raw records) and in memory
// (so the trainers fit, and the parity check predicts, on exactly what the graph computes).
//   numbers   → Imputer (a missing value becomes the train split's mean)
//   booleans  → Cast to float (0 / 1)
//   strings   → OneHotEncoder over the train split's categories with zeros=1, so an unseen or
//               missing category is all zeros, then Flatten [N, 1, C] → [N, C]
// and one Concat in that order (numbers in input order, then the other inputs in signature order).
import type { DatasetFeature, Split } from '../steps/dataset';
import { floatAttr, floatsAttr, intAttr, ML_DOMAIN, stringsAttr, type OnnxNode } from './onnx-model';
import type { ModelInputs } from './model-inputs';

/** ONNX TensorProto.DataType FLOAT, the `to` of a Cast. */
const FLOAT = 1;

export interface FeatureEncoder {
  /** Columns of the encoded matrix. */
  width: number;
  /** What each encoded column is, e.g. "bill_length_mm", "island=Dream". */
  columns: string[];
  /** A split's rows encoded as the graph encodes them (float32 values). */
  matrix(split: Split): number[][];
  /** Nodes from the layout's inputs to `output`, a float32 [N, width] tensor. */
  nodes(output: string): OnnxNode[];
}

/** Mean of a number column's present values (0 when it has none). */
function meanOf(values: readonly (number | null)[]): number {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v !== null) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}

interface Part {
  feature: DatasetFeature;
  /** Index of the feature in the dataset (its column in a Split). */
  index: number;
}

/** The encoder of a layout, with its imputed means taken from the train split. */
export function fitEncoder(features: readonly DatasetFeature[], layout: ModelInputs, train: Split): FeatureEncoder {
  const parts = features.map((feature, index): Part => ({ feature, index }));
  const numbers = parts.filter((p) => p.feature.type === 'number');
  const others = parts.filter((p) => p.feature.type !== 'number');
  const means = numbers.map((p) => Math.fround(meanOf(train.columns[p.index].values as (number | null)[])));
  const categoriesOf = (p: Part) => p.feature.categories ?? [];
  const columns = [
    ...numbers.map((p) => p.feature.name),
    ...others.flatMap((p) => (p.feature.type === 'boolean' ? [p.feature.name] : categoriesOf(p).map((c) => `${p.feature.name}=${c}`))),
  ];
  const numericInput = layout.inputs.find((i) => i.type === 'float32')?.name;

  const matrix = (split: Split): number[][] => {
    const indexes = others.map((p) => new Map(categoriesOf(p).map((c, k) => [c, k])));
    return Array.from({ length: split.rows }, (_, i) => {
      const row = numbers.map((p, j) => Math.fround((split.columns[p.index].values[i] as number | null) ?? means[j]));
      others.forEach((p, j) => {
        const v = split.columns[p.index].values[i];
        if (p.feature.type === 'boolean') {
          row.push(v === true ? 1 : 0);
          return;
        }
        const hot = new Array<number>(categoriesOf(p).length).fill(0);
        const k = v === null ? undefined : indexes[j].get(String(v));
        if (k !== undefined) hot[k] = 1;
        row.push(...hot);
      });
      return row;
    });
  };

  const nodes = (output: string): OnnxNode[] => {
    const out: OnnxNode[] = [];
    const pieces: string[] = [];
    if (numbers.length > 0) {
      if (!numericInput) throw new Error('the layout has no float32 input for the number features');
      pieces.push('encoded_numbers');
      out.push({
        opType: 'Imputer',
        domain: ML_DOMAIN,
        inputs: [numericInput],
        outputs: ['encoded_numbers'],
        attributes: [floatsAttr('imputed_value_floats', means), floatAttr('replaced_value_float', NaN)],
      });
    }
    others.forEach((p, j) => {
      const name = `encoded_${j}`;
      pieces.push(name);
      if (p.feature.type === 'boolean') {
        out.push({ opType: 'Cast', domain: '', inputs: [p.feature.name], outputs: [name], attributes: [intAttr('to', FLOAT)] });
        return;
      }
      out.push(
        {
          opType: 'OneHotEncoder',
          domain: ML_DOMAIN,
          inputs: [p.feature.name],
          outputs: [`${name}_onehot`],
          attributes: [stringsAttr('cats_strings', categoriesOf(p)), intAttr('zeros', 1)],
        },
        { opType: 'Flatten', domain: '', inputs: [`${name}_onehot`], outputs: [name], attributes: [intAttr('axis', 1)] },
      );
    });
    out.push({ opType: 'Concat', domain: '', inputs: pieces, outputs: [output], attributes: [intAttr('axis', 1)] });
    return out;
  };

  return { width: columns.length, columns, matrix, nodes };
}
