import type { ModelVersion } from '../../common/contract';
import type { CardEvidence } from '../../common/model-card';
import { groupReports } from '../card/groups';
import { typedTrainingReference, type ReferenceTarget } from '../ml/reference';
import type { StepContext } from '../sdk/pipeline';
import { DATASET, EVALUATION, MODEL_FILE, type PreparedDataset } from './dataset';
import type { Evaluation } from './evaluate';
import { GATE_FILE, type Check } from './gate';

/** The version's metrics: the task's test scores, the parity, the split sizes. */
function metricsOf(e: Evaluation, data: PreparedDataset): Record<string, number> {
  const sizes = { test_rows: data.test.rows, train_rows: data.train.rows, onnx_parity: e.parity };
  if (e.task === 'regression') {
    return { rmse: e.test.rmse, mae: e.test.mae, r2: e.test.r2, train_rmse: e.train.rmse, train_r2: e.train.r2, ...sizes };
  }
  return { accuracy: e.test.accuracy, macro_f1: e.test.macroF1, train_accuracy: e.trainAccuracy, recall_gap: e.recallGap, ...sizes };
}

/** The model card's evidence: the gate's checks (when a gate step ran) and the group gaps of the test split. */
function cardEvidence(ctx: StepContext<unknown>, data: PreparedDataset, e: Evaluation): CardEvidence {
  const gate = ctx.artifacts.exists(GATE_FILE) ? { checks: ctx.artifacts.readJson<Check[]>(GATE_FILE), enforced: true } : null;
  if (e.predicted?.length !== data.test.rows) {
    return { gate, groups: [], groupsNote: `${EVALUATION} has no test predictions, so no group gaps (evaluated before model cards)` };
  }
  return { gate, groups: groupReports({ task: data.task, columns: data.test.columns, truth: data.test.y, predicted: e.predicted }) };
}

/** Registers model.onnx with the signature it was evaluated with, its metrics, training reference and data lineage. */
export function register(ctx: StepContext<unknown>, modelName: string): Promise<ModelVersion> {
  const data = ctx.artifacts.readJson<PreparedDataset>(DATASET);
  const e = ctx.artifacts.readJson<Evaluation>(EVALUATION);
  const target: ReferenceTarget =
    data.task === 'regression'
      ? { task: 'regression', values: [data.train.y] }
      : { task: 'classification', y: data.train.y, nClasses: data.classLabels.length };
  return ctx.register({
    model: modelName,
    onnxFile: ctx.artifacts.path(MODEL_FILE),
    signature: e.signature,
    metrics: metricsOf(e, data),
    reference: typedTrainingReference(data.train.columns, target),
    dataFiles: [data.source],
    card: cardEvidence(ctx, data, e),
  });
}
