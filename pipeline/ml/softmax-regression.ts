// No maintained JS library offers multinomial logistic regression with intercepts
// (ml-logistic-regression is one-vs-all without intercepts), hence this one.
import { argmax, checkFeatureRows, checkTrainingData, type Checkpoint, type Classifier, type OnnxNames } from './classifier';
import { classifierModelOf, floatsAttr, intAttr, intsAttr, ML_DOMAIN, type OnnxNode, stringAttr } from './onnx-model';

export interface SoftmaxRegressionOptions {
  /** Full-batch gradient descent steps. */
  epochs: number;
  learningRate: number;
  /** L2 penalty on the coefficients (not the intercepts): loss = mean cross-entropy + l2/2 · ‖W‖². */
  l2: number;
  /** Called before each epoch. */
  checkpoint?: Checkpoint;
}

function softmax(scores: number[]): number[] {
  const max = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Per-column mean and standard deviation (1 for constant columns, so they standardize to 0). */
function columnScaling(X: number[][]): { mean: number[]; scale: number[] } {
  const nFeatures = X[0].length;
  const mean = Array.from({ length: nFeatures }, (_, j) => X.reduce((s, row) => s + row[j], 0) / X.length);
  const scale = mean.map((m, j) => {
    const sd = Math.sqrt(X.reduce((s, row) => s + (row[j] - m) ** 2, 0) / X.length);
    return sd > 0 ? sd : 1;
  });
  return { mean, scale };
}

class SoftmaxRegressionModel implements Classifier {
  readonly kind = 'logistic_regression';
  readonly nFeatures: number;
  readonly nClasses: number;

  /** Raw-feature-scale parameters, [class][feature] and [class]. */
  constructor(
    private readonly coefficients: number[][],
    private readonly intercepts: number[],
  ) {
    this.nClasses = intercepts.length;
    this.nFeatures = coefficients[0].length;
  }

  predictProba(X: number[][]): number[][] {
    checkFeatureRows(X, this.nFeatures);
    return X.map((row) => {
      // float32 inputs, as the ONNX model receives them.
      const x = row.map(Math.fround);
      return softmax(this.coefficients.map((w, k) => w.reduce((s, wj, j) => s + wj * x[j], this.intercepts[k])));
    });
  }

  predict(X: number[][]): number[] {
    return this.predictProba(X).map((p) => argmax(p));
  }

  toOnnx(names: OnnxNames): Uint8Array {
    return classifierModelOf(this, names, this.onnxNodes(names));
  }

  onnxNodes(names: OnnxNames): OnnxNode[] {
    return [
      {
        opType: 'LinearClassifier',
        domain: ML_DOMAIN,
        inputs: [names.inputName],
        outputs: [names.labelOutput, names.probabilitiesOutput],
        attributes: [
          floatsAttr('coefficients', this.coefficients.flat()),
          floatsAttr('intercepts', this.intercepts),
          intsAttr(
            'classlabels_ints',
            Array.from({ length: this.nClasses }, (_, k) => k),
          ),
          // 1 = multinomial (the spec's default 0 is one-vs-rest); onnxruntime only applies post_transform.
          intAttr('multi_class', 1),
          stringAttr('post_transform', 'SOFTMAX'),
        ],
      },
    ];
  }
}

/**
 * Multinomial logistic regression with intercepts, trained by deterministic full-batch gradient
 * descent from zero on standardized features, then folded back to raw-feature coefficients.
 */
export function trainSoftmaxRegression(X: number[][], y: number[], nClasses: number, opts: SoftmaxRegressionOptions): Classifier {
  checkTrainingData(X, y, nClasses);
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new Error(`epochs must be a positive integer, got ${opts.epochs}`);
  if (!(opts.learningRate > 0)) throw new Error(`learningRate must be > 0, got ${opts.learningRate}`);
  if (!(opts.l2 >= 0)) throw new Error(`l2 must be ≥ 0, got ${opts.l2}`);

  const n = X.length;
  const nFeatures = X[0].length;
  const { mean, scale } = columnScaling(X);
  const Z = X.map((row) => row.map((v, j) => (v - mean[j]) / scale[j]));
  const W = Array.from({ length: nClasses }, () => new Array<number>(nFeatures).fill(0));
  const b = new Array<number>(nClasses).fill(0);

  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    opts.checkpoint?.();
    const gradW = Array.from({ length: nClasses }, () => new Array<number>(nFeatures).fill(0));
    const gradB = new Array<number>(nClasses).fill(0);
    Z.forEach((z, i) => {
      const p = softmax(W.map((w, k) => w.reduce((s, wj, j) => s + wj * z[j], b[k])));
      p[y[i]] -= 1;
      for (let k = 0; k < nClasses; k++) {
        gradB[k] += p[k];
        for (let j = 0; j < nFeatures; j++) gradW[k][j] += p[k] * z[j];
      }
    });
    for (let k = 0; k < nClasses; k++) {
      b[k] -= (opts.learningRate * gradB[k]) / n;
      for (let j = 0; j < nFeatures; j++) W[k][j] -= opts.learningRate * (gradW[k][j] / n + opts.l2 * W[k][j]);
    }
  }

  // w·(x − mean)/scale + b  =  (w/scale)·x + (b − Σ w·mean/scale). Rounded to float32, the precision
  // the ONNX model stores, so predictProba computes with the very parameters that are exported.
  const coefficients = W.map((w) => w.map((wj, j) => Math.fround(wj / scale[j])));
  const intercepts = W.map((w, k) => Math.fround(w.reduce((s, wj, j) => s - (wj * mean[j]) / scale[j], b[k])));
  return new SoftmaxRegressionModel(coefficients, intercepts);
}
