import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';

import { trainGradientBoosting } from '../../pipeline/ml/trees/boosting';
import { trainRandomForest } from '../../pipeline/ml/trees/forest';
import type { TreeEnsemble } from '../../pipeline/ml/trees/model';
import { defaultTreeOnnxNames, treeEnsembleToOnnx } from '../../pipeline/ml/trees/onnx-export';
import { syntheticTable } from '../../pipeline/ml/trees/synthetic';
import type { TreeTable } from '../../pipeline/ml/trees/table';

/** Runs the exported model on a table, categories given as their strings (code -1 as a category never seen). */
async function runOnnx(model: TreeEnsemble, table: TreeTable): Promise<ort.InferenceSession.OnnxValueMapType> {
  const names = defaultTreeOnnxNames(model);
  const session = await ort.InferenceSession.create(Buffer.from(treeEnsembleToOnnx(model, names)));
  const feeds: Record<string, ort.Tensor> = {
    [names.numericInput]: new ort.Tensor('float32', table.numeric, [table.nRows, table.numericNames.length]),
  };
  table.categorical.forEach((c, j) => {
    const strings = Array.from(c.codes, (code) => (code < 0 ? 'never-seen' : c.categories[code]));
    feeds[names.categoricalInputs[j]] = new ort.Tensor('string', strings, [table.nRows, 1]);
  });
  return session.run(feeds);
}

const TRAINERS = {
  gradient_boosting: (t: TreeTable, target: Parameters<typeof trainGradientBoosting>[1]) =>
    trainGradientBoosting(t, target, { maxIter: 25, seed: 1 }),
  random_forest: (t: TreeTable, target: Parameters<typeof trainGradientBoosting>[1]) =>
    trainRandomForest(t, target, { nEstimators: 15, seed: 1 }),
};

const CASES = [
  { task: 'classification' as const, nClasses: 2 },
  { task: 'classification' as const, nClasses: 4 },
  { task: 'regression' as const, nClasses: 0 },
];

describe('ONNX parity on random tables (missing values, categories, an unseen category)', () => {
  for (const [trainer, train] of Object.entries(TRAINERS)) {
    for (const c of CASES) {
      test(`${trainer}, ${c.task}${c.nClasses ? ` with ${c.nClasses} classes` : ''}`, async () => {
        const seed = 11 + c.nClasses;
        const shape = { numeric: 8, categorical: 2, categories: 6, missing: 0.08, ...c };
        const data = syntheticTable({ rows: 3000, ...shape, seed });
        const model = train(data.table, data.target);
        // Held-out rows from the same process, scored by both.
        const heldOut = syntheticTable({ rows: 800, ...shape, seed: seed + 100 });
        const test = heldOut.table;
        const mine = model.predict(test);
        const out = await runOnnx(model, test);
        if (c.task === 'regression') {
          const values = out.value.data as Float32Array;
          assert.equal(values.length, test.nRows);
          mine.values.forEach((v, i) =>
            assert.ok(Math.abs(values[i] - v) <= 1e-5 * Math.max(1, Math.abs(v)), `row ${i}: ${values[i]} vs ${v}`),
          );
          return;
        }
        const labels = Array.from(out.label.data as BigInt64Array, Number);
        assert.deepEqual(labels, Array.from(mine.labels as Int32Array));
        const probabilities = out.probabilities.data as Float32Array;
        assert.equal(probabilities.length, test.nRows * c.nClasses);
        mine.values.forEach((p, i) => assert.ok(Math.abs(probabilities[i] - p) <= 1e-5, `probability ${i}: ${probabilities[i]} vs ${p}`));
        const accuracy = labels.filter((l, i) => l === heldOut.target.y[i]).length;
        assert.ok(accuracy / test.nRows > 0.6, `held-out accuracy ${accuracy / test.nRows}`);
      });
    }
  }
});
