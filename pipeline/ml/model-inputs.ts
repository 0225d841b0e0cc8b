// How a dataset's features map to a model's ONNX inputs: the one layout every exporter of this
// project builds its graph on, and the one the register step writes into the signature.
//   - number features: one float32 [N, k] input (NUMERIC_INPUT), in dataset order; missing is NaN;
//   - each string feature: its own string [N, 1] input named after it (a categorical column);
//   - each boolean feature: its own bool [N, 1] input named after it.
// That is the shape scikit-learn pipelines with a ColumnTransformer export, and what the server
// lays records out into (common/tensor-layout.ts).
import type { FeatureSpec, InputSpec, ModelSignature, ModelTask, TensorType } from '../../common/contract';
import { allocateBatch, featureSlots, missingValue, setValue, type InputBatch } from '../../common/tensor-layout';
import type { DatasetFeature, PreparedDataset, Split } from '../steps/dataset';
import type { TensorInfo } from './onnx-model';

/** Name of the numeric features' input; a feature already named so pushes it to the next free name. */
export const NUMERIC_INPUT = 'input';

/** The ONNX outputs of this project's exporters: skl2onnx's order, label first. */
export const OUTPUTS = { labelOutput: 'label', probabilitiesOutput: 'probabilities', valueOutput: 'value' } as const;

export interface ModelInputs {
  schema: 2;
  inputs: InputSpec[];
  /** In dataset order (the order of /predict records and of the CSV's feature columns). */
  features: FeatureSpec[];
}

export function numericInputName(features: readonly DatasetFeature[]): string {
  const taken = new Set(features.map((f) => f.name));
  let name = NUMERIC_INPUT;
  while (taken.has(name)) name = `_${name}`;
  return name;
}

const TENSOR_OF: Record<DatasetFeature['type'], TensorType> = { number: 'float32', string: 'string', boolean: 'bool' };

/**
 * The signature accepts null (missingValue: NaN, '' or false, as in training) only where training had
 * missing values, so that a client that drops a field which was never missing gets a 4xx rather than a guess.
 */
function nullableIfMissing(f: DatasetFeature, spec: FeatureSpec): FeatureSpec {
  return f.missing > 0 ? { ...spec, nullable: true } : spec;
}

/** The ONNX inputs of a dataset's features and each feature's place in them. */
export function modelInputs(features: readonly DatasetFeature[]): ModelInputs {
  const numeric = features.filter((f) => f.type === 'number');
  const numericName = numericInputName(features);
  const inputs: InputSpec[] = [];
  if (numeric.length > 0) inputs.push({ name: numericName, type: 'float32', width: numeric.length, rank: 2 });
  for (const f of features) if (f.type !== 'number') inputs.push({ name: f.name, type: TENSOR_OF[f.type], width: 1, rank: 2 });
  const specs = features.map((f): FeatureSpec => {
    if (f.type === 'number') {
      const spec: FeatureSpec = { name: f.name, type: 'float32', input: numericName, column: numeric.indexOf(f), min: f.min, max: f.max };
      return nullableIfMissing(f, spec);
    }
    return nullableIfMissing(f, { name: f.name, type: TENSOR_OF[f.type], input: f.name, column: 0, categories: f.categories ?? [] });
  });
  return { schema: 2, inputs, features: specs };
}

/** The graph inputs of a layout, for buildModel. */
export function graphInputs(layout: ModelInputs): TensorInfo[] {
  return layout.inputs.map((i) => ({ name: i.name, type: i.type, dims: i.rank === 2 ? [i.width] : [] }));
}

/**
 * The signature of a model trained on a dataset: its features laid out by modelInputs, and the
 * task's outputs (`outputs`: the graph's output names in skl2onnx's order, label then
 * probabilities, or the value).
 */
export function datasetSignature(data: PreparedDataset, outputs: readonly string[]): ModelSignature {
  const layout = modelInputs(data.features);
  if (data.task === 'regression') return { ...layout, task: 'regression', targets: [data.target], valueOutput: outputs[0] };
  return {
    ...layout,
    task: 'classification',
    target: data.target,
    labelOutput: outputs[0],
    labelKind: 'index',
    probabilitiesOutput: outputs[1] ?? null,
    classLabels: data.classLabels,
  };
}

/** The outputs a model of this task must have, for messages. */
export function expectedOutputs(task: ModelTask): string {
  return task === 'regression' ? 'one output (the value)' : 'two outputs (label, probabilities)';
}

/**
 * A split's rows as the model's input tensors, as the server lays out the same records: a missing
 * value as common/tensor-layout.ts missingValue says (NaN, '' or false).
 */
export function splitBatch(signature: ModelSignature, split: Split): InputBatch {
  const batch = allocateBatch(signature, split.rows);
  featureSlots(signature).forEach((slot, j) => {
    const buffer = batch.buffers.get(slot.input.name)!;
    const values = split.columns[j].values;
    const fallback = missingValue(slot.feature.type) ?? NaN;
    for (let i = 0; i < split.rows; i++) setValue(buffer, i * slot.stride + slot.offset, slot.feature.type, values[i] ?? fallback);
  });
  return batch;
}
