import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomForestClassifier } from 'ml-random-forest';
import * as ort from 'onnxruntime-node';

import { argmax, type Classifier } from '../../pipeline/ml/classifier';
import { classificationReport } from '../../pipeline/ml/metrics';
import { trainRandomForest } from '../../pipeline/ml/random-forest';
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
    name: 'random forest',
    train: (X, y, nClasses) => trainRandomForest(X, y, nClasses, { nEstimators: 50, maxDepth: 5, seed: 42, maxFeatures: 2 }),
  },
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

describe('random forest specifics', () => {
  test('probabilities are vote shares of nEstimators trees', () => {
    const model = trainRandomForest(iris.X, iris.y, 3, { nEstimators: 7, maxDepth: 3, seed: 1, maxFeatures: 2 });
    for (const row of model.predictProba(iris.X)) {
      for (const p of row) assert.ok(Math.abs(p * 7 - Math.round(p * 7)) < 1e-9, `${p} is not a multiple of 1/7`);
    }
  });

  test("vote shares equal ml-random-forest's per-tree predictions on float32-rounded inputs", () => {
    // Same options as trainRandomForest passes, so the same seed grows the same trees.
    const opts = { nEstimators: 25, seed: 3, maxFeatures: 2 };
    const model = trainRandomForest(iris.X, iris.y, 3, { ...opts, maxDepth: 4 });
    const forest = new RandomForestClassifier({ ...opts, replacement: false, noOOB: true, treeOptions: { maxDepth: 4 } });
    forest.train(iris.X, iris.y);
    // The model decides on float32 inputs, as ONNX serves them (1.7 vs a 1.7000000000000002 split differs in double).
    const perTree = forest.predictionValues(iris.X.map((row) => row.map(Math.fround)));
    const proba = model.predictProba(iris.X);
    iris.X.forEach((_, i) => {
      const votes = perTree.getRow(i);
      const expected = [0, 1, 2].map((k) => votes.filter((v) => v === k).length / opts.nEstimators);
      assert.deepEqual(proba[i], expected, `row ${i}`);
    });
  });

  test('a row exactly on a split threshold goes to the right child, in the model and in ONNX', async () => {
    // ml-cart splits between 1 and 2 at their mean, 1.5, and sends x < 1.5 left.
    const X = [[1], [1], [1], [1], [2], [2], [2], [2]];
    const y = [0, 0, 0, 0, 1, 1, 1, 1];
    const model = trainRandomForest(X, y, 2, { nEstimators: 9, maxDepth: 2, seed: 5, maxFeatures: 1 });
    const probe = [[1], [1.5], [2], [1.4999]];
    const proba = model.predictProba(probe);
    assert.deepEqual(proba[1], proba[2]);
    assert.deepEqual(proba[3], proba[0]);
    assert.notDeepEqual(proba[0], proba[2]);
    await assertOnnxParity(model, probe);
  });

  test('a different seed grows a different forest', () => {
    const opts = { nEstimators: 5, maxDepth: 4, maxFeatures: 2 };
    const a = trainRandomForest(iris.X, iris.y, 3, { ...opts, seed: 1 }).toOnnx(NAMES);
    const b = trainRandomForest(iris.X, iris.y, 3, { ...opts, seed: 2 }).toOnnx(NAMES);
    assert.notDeepEqual(a, b);
  });
});

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
    const model = trainers[1].train(iris.X, iris.y, 3);
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

  test('the random forest calls its checkpoint before each tree, and a throw stops it there', () => {
    const opts = { nEstimators: 12, maxDepth: 4, seed: 3, maxFeatures: 2 };
    const counted = stopAfter(Infinity);
    const model = trainRandomForest(iris.X, iris.y, 3, { ...opts, checkpoint: counted.checkpoint });
    assert.equal(counted.calls(), 12);
    assert.deepEqual(model.toOnnx(NAMES), trainRandomForest(iris.X, iris.y, 3, opts).toOnnx(NAMES), 'same forest as without it');
    const stopping = stopAfter(3);
    assert.throws(() => trainRandomForest(iris.X, iris.y, 3, { ...opts, checkpoint: stopping.checkpoint }), /stopped at call 4/);
    assert.equal(stopping.calls(), 4);
  });

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
