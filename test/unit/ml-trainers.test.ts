import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';

import { argmax, type Classifier } from '../../pipeline/ml/classifier';
import { classificationReport } from '../../pipeline/ml/metrics';
import { trainSoftmaxRegression } from '../../pipeline/ml/softmax-regression';
import { stratifiedSplit } from '../../pipeline/ml/split';

const IRIS_CSV = path.join(__dirname, '..', '..', 'pipeline', 'examples', 'iris', 'iris_dataset.csv');
const NAMES = { inputName: 'features', labelOutput: 'label', probabilitiesOutput: 'probabilities' };

/** Minimal reader for the iris CSV (numeric columns, then a quoted class name). */
function loadIris(): { X: number[][]; y: number[]; classes: string[] } {
  const [, ...lines] = readFileSync(IRIS_CSV, 'utf8').trim().split(/\r?\n/);
  const rows = lines.map((line) => line.split(','));
  const classes = [...new Set(rows.map((r) => r[4].replace(/"/g, '')))].sort();
  return {
    X: rows.map((r) => r.slice(0, 4).map(Number)),
    y: rows.map((r) => classes.indexOf(r[4].replace(/"/g, ''))),
    classes,
  };
}

async function runOnnx(model: Classifier, X: number[][]): Promise<{ labels: number[]; proba: number[][] }> {
  const session = await ort.InferenceSession.create(Buffer.from(model.toOnnx(NAMES)));
  assert.deepEqual(session.inputNames, [NAMES.inputName]);
  assert.deepEqual([...session.outputNames].sort(), [NAMES.labelOutput, NAMES.probabilitiesOutput].sort());
  const input = new ort.Tensor('float32', Float32Array.from(X.flat()), [X.length, model.nFeatures]);
  const out = await session.run({ [NAMES.inputName]: input });
  const label = out[NAMES.labelOutput];
  const probabilities = out[NAMES.probabilitiesOutput];
  assert.equal(label.type, 'int64');
  assert.deepEqual(label.dims, [X.length]);
  assert.deepEqual(probabilities.dims, [X.length, model.nClasses]);
  const flat = Array.from(probabilities.data as Float32Array);
  return {
    labels: Array.from(label.data as BigInt64Array, Number),
    proba: X.map((_, i) => flat.slice(i * model.nClasses, (i + 1) * model.nClasses)),
  };
}

async function assertOnnxParity(model: Classifier, X: number[][]): Promise<void> {
  const expectedLabels = model.predict(X);
  const expectedProba = model.predictProba(X);
  const batch = await runOnnx(model, X);
  assert.deepEqual(batch.labels, expectedLabels);
  batch.proba.forEach((row, i) =>
    row.forEach((p, k) => assert.ok(Math.abs(p - expectedProba[i][k]) <= 1e-5, `row ${i} class ${k}: onnx ${p} vs ${expectedProba[i][k]}`)),
  );
  // onnxruntime evaluates a single row on a different code path than a batch.
  const single = await runOnnx(model, [X[X.length - 1]]);
  assert.deepEqual(single.labels, [expectedLabels[X.length - 1]]);
}

const iris = loadIris();

const trainers: { name: string; train: (X: number[][], y: number[], nClasses: number) => Classifier }[] = [
  {
    name: 'softmax regression',
    train: (X, y, nClasses) => trainSoftmaxRegression(X, y, nClasses, { epochs: 1000, learningRate: 0.5, l2: 1e-3 }),
  },
];

for (const trainer of trainers) {
  describe(`${trainer.name} on iris`, () => {
    const split = stratifiedSplit(iris.y, 0.2, 7);
    const pick = <T>(rows: number[], values: T[]) => rows.map((i) => values[i]);
    const started = performance.now();
    const model = trainer.train(pick(split.train, iris.X), pick(split.train, iris.y), iris.classes.length);
    const trainMs = performance.now() - started;

    test('reaches ≥ 0.9 test accuracy on a stratified 80/20 split', (t) => {
      t.diagnostic(`trained on ${split.train.length} rows in ${trainMs.toFixed(1)} ms`);
      const yTest = pick(split.test, iris.y);
      const report = classificationReport(yTest, model.predict(pick(split.test, iris.X)), iris.classes);
      t.diagnostic(`test accuracy ${report.accuracy.toFixed(3)}, macro F1 ${report.macroF1.toFixed(3)}`);
      assert.equal(yTest.length, 30);
      assert.ok(report.accuracy >= 0.9, `accuracy ${report.accuracy}`);
    });

    test('predictProba rows are distributions and predict is their first argmax', () => {
      const proba = model.predictProba(iris.X);
      assert.equal(proba.length, iris.X.length);
      for (const row of proba) {
        assert.equal(row.length, 3);
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-9);
        assert.ok(row.every((p) => p >= 0 && p <= 1));
      }
      assert.deepEqual(
        model.predict(iris.X),
        proba.map((row) => argmax(row)),
      );
    });

    test('ONNX export matches predict and predictProba on every iris row', async () => {
      assert.equal(model.nFeatures, 4);
      await assertOnnxParity(model, iris.X);
    });

    test('ONNX export of a two-class model matches too', async () => {
      const rows = iris.y.flatMap((label, i) => (label > 0 ? [i] : []));
      const X = pick(rows, iris.X);
      const binary = trainer.train(
        X,
        pick(rows, iris.y).map((label) => label - 1),
        2,
      );
      const labels = binary.predict(X);
      assert.ok(labels.includes(0) && labels.includes(1), 'both classes are predicted');
      await assertOnnxParity(binary, X);
    });

    test('training is deterministic', () => {
      const again = trainer.train(pick(split.train, iris.X), pick(split.train, iris.y), iris.classes.length);
      assert.deepEqual(again.toOnnx(NAMES), model.toOnnx(NAMES));
    });
  });
}

describe('shared classifier rules', () => {
  test('argmax returns the first maximum', () => {
    assert.equal(argmax([0.2, 0.4, 0.4]), 1);
    assert.equal(argmax([3]), 0);
    assert.equal(argmax(Float32Array.from([-1, -0.5, -2])), 1);
    assert.throws(() => argmax([]), /empty/);
  });

  test('trainers reject malformed data', () => {
    for (const trainer of trainers) {
      assert.throws(
        () =>
          trainer.train(
            [
              [1, 2],
              [3, 4],
            ],
            [0, 2],
            2,
          ),
        /not a class index/,
      );
      assert.throws(() => trainer.train([[1, 2], [3]], [0, 1], 2), /row 1 has 1 features/);
      assert.throws(() => trainer.train([[1, 2]], [0, 1], 2), /1 rows but y has 2/);
    }
  });

  test('predictProba rejects rows of the wrong width', () => {
    const model = trainers[0].train(iris.X, iris.y, 3);
    assert.throws(() => model.predictProba([[1, 2, 3]]), /expected 4/);
  });
});

describe('cancellation checkpoints (how a cancelled run stops training)', () => {
  const stopAfter = (n: number) => {
    let calls = 0;
    return {
      checkpoint: () => {
        calls += 1;
        if (calls > n) throw new Error(`stopped at call ${calls}`);
      },
      calls: () => calls,
    };
  };

  test('softmax regression calls its checkpoint before each epoch, and a throw stops it there', () => {
    const counted = stopAfter(Infinity);
    trainSoftmaxRegression(iris.X, iris.y, 3, { epochs: 40, learningRate: 0.5, l2: 0, checkpoint: counted.checkpoint });
    assert.equal(counted.calls(), 40);
    const stopping = stopAfter(5);
    assert.throws(
      () => trainSoftmaxRegression(iris.X, iris.y, 3, { epochs: 40, learningRate: 0.5, l2: 0, checkpoint: stopping.checkpoint }),
      /call 6/,
    );
  });
});
