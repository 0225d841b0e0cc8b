export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Rows whose true class is this one. */
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  /** Unweighted mean of the per-class F1 over every class in classLabels. */
  macroF1: number;
  perClass: ClassMetrics[];
  /** confusion[true][predicted] = row count. */
  confusion: number[][];
}

/** Division that reports 0 instead of NaN when nothing was counted. */
function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

/** Accuracy, per-class precision/recall/F1 and the confusion matrix of class indexes into classLabels. */
export function classificationReport(yTrue: number[], yPred: number[], classLabels: string[]): ClassificationReport {
  if (yTrue.length !== yPred.length) {
    throw new Error(`yTrue has ${yTrue.length} labels but yPred has ${yPred.length}`);
  }
  const nClasses = classLabels.length;
  const confusion = classLabels.map(() => new Array<number>(nClasses).fill(0));
  yTrue.forEach((t, i) => {
    const p = yPred[i];
    for (const label of [t, p]) {
      if (!Number.isInteger(label) || label < 0 || label >= nClasses) {
        throw new Error(`label ${label} at row ${i} is not a class index in 0..${nClasses - 1}`);
      }
    }
    confusion[t][p] += 1;
  });

  const perClass = classLabels.map((label, k) => {
    const truePositives = confusion[k][k];
    const support = confusion[k].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((sum, row) => sum + row[k], 0);
    const precision = ratio(truePositives, predicted);
    const recall = ratio(truePositives, support);
    return { label, precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  });
  const correct = confusion.reduce((sum, row, k) => sum + row[k], 0);
  return {
    accuracy: ratio(correct, yTrue.length),
    macroF1: ratio(
      perClass.reduce((sum, c) => sum + c.f1, 0),
      nClasses,
    ),
    perClass,
    confusion,
  };
}

export interface RegressionReport {
  rows: number;
  /** Root mean squared error. */
  rmse: number;
  /** Mean absolute error. */
  mae: number;
  /**
   * Coefficient of determination, 1 − SS_res / SS_tot. With a constant truth it is 1 for a perfect
   * prediction and 0 otherwise (scikit-learn's force_finite), never NaN.
   */
  r2: number;
}

/** RMSE, MAE and R² of predicted values against true ones (one target). */
export function regressionReport(yTrue: readonly number[], yPred: ArrayLike<number>): RegressionReport {
  if (yTrue.length !== yPred.length) throw new Error(`yTrue has ${yTrue.length} values but yPred has ${yPred.length}`);
  const n = yTrue.length;
  if (n === 0) throw new Error('a regression report needs at least one row');
  const mean = yTrue.reduce((a, b) => a + b, 0) / n;
  let squared = 0;
  let absolute = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const e = yTrue[i] - yPred[i];
    squared += e * e;
    absolute += Math.abs(e);
    total += (yTrue[i] - mean) ** 2;
  }
  const r2 = total === 0 ? (squared === 0 ? 1 : 0) : 1 - squared / total;
  return { rows: n, rmse: Math.sqrt(squared / n), mae: absolute / n, r2 };
}
