// What a trainer hands the export step, whatever it is: a model of a typed dataset that writes its
// whole ONNX graph on the model-inputs.ts layout and predicts a split in memory (for the parity
// check). The linear models here implement it in encoded-model.ts (an encoder, then the model);
// a trainer that reads the raw inputs itself (trees with their own category handling) implements
// it directly.
import type { ModelTask } from '../../common/contract';
import type { PreparedDataset, Split } from '../steps/dataset';

export interface TrainedModel {
  readonly task: ModelTask;
  /** Names the graph and the logs, e.g. "linear_regression". */
  readonly kind: string;
  /**
   * The serialized ONNX model: inputs as modelInputs(data.features) lays them out; outputs
   * OUTPUTS.labelOutput (int64 class index, [N]) and OUTPUTS.probabilitiesOutput (float32 [N, C]),
   * or OUTPUTS.valueOutput (float32 [N, 1]) for regression.
   */
  toOnnx(data: PreparedDataset): Uint8Array;
  /** In-memory predictions of a split's rows: class indexes into classLabels, or values. */
  predict(split: Split): number[];
}
