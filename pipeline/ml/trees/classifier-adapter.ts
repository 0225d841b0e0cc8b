// The tree ensembles behind the pipeline's Classifier interface (rows of numbers in, one float32 input in the graph).
import type { Classifier, OnnxNames } from '../classifier';
import type { TreeEnsemble } from './model';
import { treeEnsembleToOnnx } from './onnx-export';
import type { TreeTable } from './table';

/** A numeric-only table from rows (as float32, what the ONNX input carries). */
export function tableFromRows(X: number[][]): TreeTable {
  const k = X[0]?.length ?? 0;
  return {
    nRows: X.length,
    numericNames: Array.from({ length: k }, (_, j) => `x${j}`),
    numeric: Float32Array.from(X.flat()),
    categorical: [],
  };
}

export function treeClassifier(model: TreeEnsemble): Classifier {
  const nFeatures = model.spec.numericNames.length;
  const nClasses = model.spec.nOutputs;
  return {
    kind: model.kind,
    nFeatures,
    nClasses,
    predictProba: (X) => {
      const p = model.predict(tableFromRows(X)).values;
      return X.map((_, i) => Array.from(p.subarray(i * nClasses, (i + 1) * nClasses)));
    },
    predict: (X) => Array.from(model.predict(tableFromRows(X)).labels as Int32Array),
    toOnnx: (names: OnnxNames) =>
      treeEnsembleToOnnx(model, {
        numericInput: names.inputName,
        categoricalInputs: [],
        labelOutput: names.labelOutput,
        probabilitiesOutput: names.probabilitiesOutput,
        valueOutput: 'value',
      }),
  };
}
