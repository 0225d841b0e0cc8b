// A model trained on the encoder's float matrix (feature-encoder.ts), as one TrainedModel: its
// graph is the layout's inputs, the encoder's nodes, then the model's nodes on the encoded tensor.
import type { PreparedDataset, Split } from '../steps/dataset';
import type { Classifier } from './classifier';
import type { FeatureEncoder } from './feature-encoder';
import type { Regressor } from './linear-regression';
import { graphInputs, modelInputs, OUTPUTS } from './model-inputs';
import { buildModel, type TensorInfo, type OnnxNode } from './onnx-model';
import type { TrainedModel } from './trained-model';

/** The name of the encoded matrix inside the graph, between the encoder and the model. */
const ENCODED = 'encoded_features';

function graph(data: PreparedDataset, encoder: FeatureEncoder, kind: string, outputs: TensorInfo[], nodes: OnnxNode[]): Uint8Array {
  return buildModel({ name: kind, inputs: graphInputs(modelInputs(data.features)), outputs, nodes: [...encoder.nodes(ENCODED), ...nodes] });
}

export function encodedClassifier(encoder: FeatureEncoder, model: Classifier): TrainedModel {
  const names = { inputName: ENCODED, labelOutput: OUTPUTS.labelOutput, probabilitiesOutput: OUTPUTS.probabilitiesOutput };
  return {
    task: 'classification',
    kind: model.kind,
    toOnnx: (data) =>
      graph(
        data,
        encoder,
        model.kind,
        [
          { name: names.labelOutput, type: 'int64', dims: [] },
          { name: names.probabilitiesOutput, type: 'float32', dims: [data.classLabels.length] },
        ],
        model.onnxNodes(names),
      ),
    predict: (split: Split) => model.predict(encoder.matrix(split)),
  };
}

export function encodedRegressor(encoder: FeatureEncoder, model: Regressor): TrainedModel {
  return {
    task: 'regression',
    kind: model.kind,
    toOnnx: (data) =>
      graph(
        data,
        encoder,
        model.kind,
        [{ name: OUTPUTS.valueOutput, type: 'float32', dims: [1] }],
        model.onnxNodes(ENCODED, OUTPUTS.valueOutput),
      ),
    predict: (split: Split) => model.predict(encoder.matrix(split)),
  };
}
