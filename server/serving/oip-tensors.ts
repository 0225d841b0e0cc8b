// The Open Inference Protocol side of a signature: the metadata's tensors with their real datatypes,
// and infer's outputs serialised straight to JSON text from fragments made once per served version
// (a label's JSON, the output headers): no object per row, no JSON.stringify of a big array.
import type { ModelSignature } from '../../common/contract';
import type { Prediction } from '../../common/inference';
import { oipDatatype, outputNames } from '../../common/signature';
import { float32Json } from './float32-json';
import type { ServedModel } from './model-holder';

interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

/** Inputs, outputs and parameters of a version's OIP metadata. */
export function oipMetadata(s: ModelSignature): {
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  parameters: Record<string, unknown>;
} {
  const inputs = s.inputs.map((i) => ({ name: i.name, datatype: oipDatatype(i.type), shape: i.rank === 1 ? [-1] : [-1, i.width] }));
  const features = s.features.map((f) => ({ name: f.name, datatype: oipDatatype(f.type), input: f.input, column: f.column }));
  if (s.task === 'regression') {
    return {
      inputs,
      outputs: [{ name: s.valueOutput, datatype: 'FP32', shape: [-1, s.targets.length] }],
      parameters: { task: 'regression', features, targets: s.targets },
    };
  }
  const outputs: TensorMetadata[] = [{ name: s.labelOutput, datatype: s.labelKind === 'int64' ? 'INT64' : 'BYTES', shape: [-1] }];
  if (s.probabilitiesOutput) outputs.push({ name: s.probabilitiesOutput, datatype: 'FP32', shape: [-1, s.classLabels.length] });
  return { inputs, outputs, parameters: { task: 'classification', features, target: s.target, class_labels: s.classLabels } };
}

/** Per served version: each class label's JSON (a string, or a number for int64 labels). */
const labelData = new WeakMap<ServedModel, string[]>();

function labelsOf(served: ServedModel): string[] {
  let data = labelData.get(served);
  if (!data) {
    const s = served.version.signature;
    data = s.task === 'classification' ? s.classLabels.map((l) => (s.labelKind === 'int64' ? String(Number(l)) : JSON.stringify(l))) : [];
    labelData.set(served, data);
  }
  return data;
}

function tensor(name: string, datatype: string, shape: number[], data: string): string {
  return `{"name":${JSON.stringify(name)},"datatype":"${datatype}","shape":[${shape.join(',')}],"data":[${data}]}`;
}

/** The wanted outputs of a prediction of n rows, as the JSON text of OIP's "outputs" list items. */
export function oipOutputs(served: ServedModel, wanted: string[], prediction: Prediction, n: number): string {
  const s = served.version.signature;
  const out: string[] = [];
  for (const name of outputNames(s)) {
    if (!wanted.includes(name)) continue;
    if (prediction.task === 'regression') {
      const t = s.task === 'regression' ? s.targets.length : 1;
      let data = '';
      for (let i = 0; i < prediction.values.length; i++) data += (i ? ',' : '') + float32Json(prediction.values[i]);
      out.push(tensor(name, 'FP32', [n, t], data));
    } else if (s.task === 'classification' && name === s.labelOutput) {
      const labels = labelsOf(served);
      let data = '';
      for (let i = 0; i < n; i++) data += (i ? ',' : '') + labels[prediction.classes[i]];
      out.push(tensor(name, s.labelKind === 'int64' ? 'INT64' : 'BYTES', [n], data));
    } else if (prediction.probabilities) {
      const p = prediction.probabilities;
      let data = '';
      for (let i = 0; i < p.length; i++) data += (i ? ',' : '') + p[i];
      out.push(tensor(name, 'FP32', [n, p.length / n], data));
    }
  }
  return out.join(',');
}
