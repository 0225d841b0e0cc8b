// Ridge (L2-penalised least squares) linear regression, solved exactly: small tabular data has few
// columns, so the normal equations fit in memory and need no iterations or learning rate.
import type { Checkpoint } from './classifier';
import { floatsAttr, intAttr, ML_DOMAIN, stringAttr, type OnnxNode } from './onnx-model';

export interface RidgeOptions {
  /** L2 penalty on the standardized coefficients (not the intercept): loss = Σ residual² + alpha · ‖w‖². */
  alpha: number;
  checkpoint?: Checkpoint;
}

export interface Regressor {
  readonly kind: 'linear_regression';
  readonly nFeatures: number;
  /** The predicted value per row, computed in float32 inputs and parameters as the ONNX model stores them. */
  predict(X: number[][]): number[];
  /** An ai.onnx.ml LinearRegressor from `input` (float32 [N, nFeatures]) to `output` (float32 [N, 1]). */
  onnxNodes(input: string, output: string): OnnxNode[];
}

/** Solves A x = b for a symmetric positive definite A (Cholesky); A and b are not modified. */
export function solveSpd(A: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  const L = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = A[i][j];
      for (let k = 0; k < j; k++) sum -= L[i][k] * L[j][k];
      if (i === j) {
        if (!(sum > 0)) throw new Error('the normal equations are singular (use alpha > 0)');
        L[i][i] = Math.sqrt(sum);
      } else {
        L[i][j] = sum / L[j][j];
      }
    }
  }
  const z = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= L[i][k] * z[k];
    z[i] = sum / L[i][i];
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = z[i];
    for (let k = i + 1; k < n; k++) sum -= L[k][i] * x[k];
    x[i] = sum / L[i][i];
  }
  return x;
}

class RidgeModel implements Regressor {
  readonly kind = 'linear_regression';
  readonly nFeatures: number;

  constructor(
    private readonly coefficients: number[],
    private readonly intercept: number,
  ) {
    this.nFeatures = coefficients.length;
  }

  predict(X: number[][]): number[] {
    return X.map((row) => {
      if (row.length !== this.nFeatures) throw new Error(`a row has ${row.length} features, expected ${this.nFeatures}`);
      return row.reduce((s, v, j) => s + this.coefficients[j] * Math.fround(v), this.intercept);
    });
  }

  onnxNodes(input: string, output: string): OnnxNode[] {
    return [
      {
        opType: 'LinearRegressor',
        domain: ML_DOMAIN,
        inputs: [input],
        outputs: [output],
        attributes: [
          floatsAttr('coefficients', this.coefficients),
          floatsAttr('intercepts', [this.intercept]),
          intAttr('targets', 1),
          stringAttr('post_transform', 'NONE'),
        ],
      },
    ];
  }
}

/**
 * Ridge regression with an intercept, as scikit-learn's Ridge on standardized columns: the columns
 * are centred and scaled to unit variance (constant ones left at 0), the penalised normal equations
 * (ZᵀZ + alpha·I) w = Zᵀ(y − ȳ) solved, and w folded back to raw-column coefficients.
 */
export function trainRidgeRegression(X: number[][], y: number[], opts: RidgeOptions): Regressor {
  if (X.length === 0) throw new Error('training data is empty');
  if (X.length !== y.length) throw new Error(`X has ${X.length} rows but y has ${y.length} values`);
  if (!(opts.alpha >= 0)) throw new Error(`alpha must be ≥ 0, got ${opts.alpha}`);
  const n = X.length;
  const d = X[0].length;
  X.forEach((row, i) => {
    if (row.length !== d || !row.every(Number.isFinite)) throw new Error(`row ${i} is not ${d} finite numbers`);
  });
  if (!y.every(Number.isFinite)) throw new Error('the target has a non-finite value');
  const mean = Array.from({ length: d }, (_, j) => X.reduce((s, row) => s + row[j], 0) / n);
  const scale = mean.map((m, j) => Math.sqrt(X.reduce((s, row) => s + (row[j] - m) ** 2, 0) / n) || 1);
  const yMean = y.reduce((a, b) => a + b, 0) / n;
  const A = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  const b = new Array<number>(d).fill(0);
  X.forEach((row, i) => {
    opts.checkpoint?.();
    const z = row.map((v, j) => (v - mean[j]) / scale[j]);
    for (let j = 0; j < d; j++) {
      b[j] += z[j] * (y[i] - yMean);
      for (let k = 0; k <= j; k++) A[j][k] += z[j] * z[k];
    }
  });
  for (let j = 0; j < d; j++) {
    // A constant column standardizes to 0 everywhere: a unit diagonal keeps the system solvable and its weight 0.
    A[j][j] += opts.alpha + (A[j][j] === 0 ? 1 : 0);
    for (let k = 0; k < j; k++) A[k][j] = A[j][k];
  }
  const w = solveSpd(A, b);
  // Rounded to float32, the precision the ONNX model stores, so predict() uses the exported parameters.
  const coefficients = w.map((wj, j) => Math.fround(wj / scale[j]));
  const intercept = Math.fround(w.reduce((s, wj, j) => s - (wj * mean[j]) / scale[j], yMean));
  return new RidgeModel(coefficients, intercept);
}
