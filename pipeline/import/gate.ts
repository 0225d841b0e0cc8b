// The metrics of an imported model on its CSV, and the quality gate when asked (--gate): the same
// thresholds as the example pipelines' defaults for classification, R² for regression.
import type { ModelSignature } from '../../common/contract';
import { errors } from '../../common/errors';
import type { Prediction } from '../../common/inference';
import { atLeast, gateParams, type Check } from '../steps/gate';
import { classificationReport, regressionReport } from '../ml/metrics';

export const IMPORT_GATE = {
  minAccuracy: gateParams.minAccuracy.default,
  minMacroF1: gateParams.minMacroF1.default,
  /** Lowest R² accepted: the model explains at least half of the target's variance. */
  minR2: gateParams.minR2.default,
};

/**
 * The registry metrics of the prediction against the CSV's truth (class indexes or values) and the gate's checks
 * (for the model card, enforced or not); throws when gated and failing.
 */
export function importGate(
  prediction: Prediction,
  truth: number[],
  signature: ModelSignature,
  gate: boolean,
): { metrics: Record<string, number>; checks: Check[] } {
  let metrics: Record<string, number>;
  let checks: Check[];
  if (prediction.task === 'classification' && signature.task === 'classification') {
    const report = classificationReport(truth, Array.from(prediction.classes), signature.classLabels);
    const recalls = report.perClass.map((c) => c.recall);
    metrics = {
      accuracy: report.accuracy,
      macro_f1: report.macroF1,
      recall_gap: Math.max(...recalls) - Math.min(...recalls),
      rows: truth.length,
    };
    checks = [atLeast('accuracy', report.accuracy, IMPORT_GATE.minAccuracy), atLeast('macro_f1', report.macroF1, IMPORT_GATE.minMacroF1)];
  } else if (prediction.task === 'regression') {
    const report = regressionReport(truth, prediction.values);
    metrics = { rmse: report.rmse, mae: report.mae, r2: report.r2, rows: truth.length };
    checks = [atLeast('r2', report.r2, IMPORT_GATE.minR2)];
  } else {
    throw errors.registry('the prediction does not match the signature’s task');
  }
  const failed = checks.filter((c) => !c.ok);
  if (gate && failed.length > 0) throw errors.gateRejected(failed.map((c) => `${c.name} ${c.value.toFixed(4)} is not ${c.rule}`));
  return { metrics, checks };
}
