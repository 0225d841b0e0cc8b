import type { ModelVersion } from '../../common/contract';
import { tabularInput } from '../../common/signature';
import { trainingReference } from '../ml/reference';
import type { StepContext } from '../sdk/pipeline';
import { DATASET, EVALUATION, MODEL_FILE, type PreparedDataset } from './dataset';
import type { Evaluation } from './evaluate';

/** Registers model.onnx with its signature, metrics, training reference and data lineage. */
export function register(ctx: StepContext<unknown>, modelName: string): ModelVersion {
  const data = ctx.artifacts.readJson<PreparedDataset>(DATASET);
  const e = ctx.artifacts.readJson<Evaluation>(EVALUATION);
  return ctx.register({
    model: modelName,
    onnxFile: ctx.artifacts.path(MODEL_FILE),
    signature: {
      ...tabularInput(
        e.io.inputName,
        'float32',
        data.features.map((name, j) => ({ name, min: data.ranges[j].min, max: data.ranges[j].max })),
      ),
      task: 'classification',
      target: data.target,
      labelOutput: e.io.labelOutput,
      labelKind: 'index',
      probabilitiesOutput: e.io.probabilitiesOutput,
      classLabels: data.classLabels,
    },
    metrics: {
      accuracy: e.test.accuracy,
      macro_f1: e.test.macroF1,
      train_accuracy: e.trainAccuracy,
      recall_gap: e.recallGap,
      onnx_parity: e.parity,
      test_rows: data.test.y.length,
      train_rows: data.train.y.length,
    },
    reference: trainingReference(data.train.X, data.train.y, data.features, data.classLabels.length),
    dataFiles: [data.source],
  });
}
