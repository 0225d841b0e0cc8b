import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';

import { infer, toFeeds } from '../../common/inference';
import { signatureProblems } from '../../common/signature';
import { encodedRegressor } from '../../pipeline/ml/encoded-model';
import { fitEncoder } from '../../pipeline/ml/feature-encoder';
import { trainRidgeRegression } from '../../pipeline/ml/linear-regression';
import { datasetSignature, graphInputs, modelInputs, splitBatch } from '../../pipeline/ml/model-inputs';
import { buildModel } from '../../pipeline/ml/onnx-model';
import type { DatasetFeature, PreparedDataset, Split } from '../../pipeline/steps/dataset';

const FEATURES: DatasetFeature[] = [
  { name: 'island', type: 'string', categories: ['Biscoe', 'Dream'], missing: 1 },
  { name: 'mass', type: 'number', min: 1, max: 4, missing: 1 },
  { name: 'adult', type: 'boolean', categories: ['false', 'true'], missing: 0 },
  { name: 'bill', type: 'number', min: 10, max: 30, missing: 0 },
];

const TRAIN: Split = {
  rows: 4,
  columns: [
    { name: 'island', type: 'string', values: ['Biscoe', 'Dream', null, 'Biscoe'], missing: 1 },
    { name: 'mass', type: 'number', values: [1, null, 4, 1], missing: 1 },
    { name: 'adult', type: 'boolean', values: [true, false, true, false], missing: 0 },
    { name: 'bill', type: 'number', values: [10, 20, 30, 20], missing: 0 },
  ],
  y: [3, 5, 8, 4],
  lines: [2, 3, 4, 5],
};

/** Rows the training data never showed: an unseen category, a missing number, a missing category. */
const LIVE: Split = {
  rows: 3,
  columns: [
    { name: 'island', type: 'string', values: ['Torgersen', 'Dream', null], missing: 1 },
    { name: 'mass', type: 'number', values: [null, 2.5, 3], missing: 1 },
    { name: 'adult', type: 'boolean', values: [false, true, true], missing: 0 },
    { name: 'bill', type: 'number', values: [15, 0.1, 25], missing: 0 },
  ],
  y: [0, 0, 0],
  lines: [6, 7, 8],
};

const dataset = (task: 'regression' | 'classification'): PreparedDataset => ({
  format: 2,
  source: { path: 'x.csv', sha256: '0'.repeat(64) },
  task,
  features: FEATURES,
  target: 'y',
  classLabels: task === 'classification' ? ['a', 'b'] : [],
  rowsRead: 4,
  rowsDropped: 0,
  train: TRAIN,
  test: LIVE,
});

test('numbers share one float32 [N, k] input; each string and boolean feature has its own [N, 1] input', () => {
  const layout = modelInputs(FEATURES);
  assert.deepEqual(layout.inputs, [
    { name: 'input', type: 'float32', width: 2, rank: 2 },
    { name: 'island', type: 'string', width: 1, rank: 2 },
    { name: 'adult', type: 'bool', width: 1, rank: 2 },
  ]);
  assert.deepEqual(
    layout.features.map((f) => [f.name, f.type, f.input, f.column]),
    [
      ['island', 'string', 'island', 0],
      ['mass', 'float32', 'input', 0],
      ['adult', 'bool', 'adult', 0],
      ['bill', 'float32', 'input', 1],
    ],
  );
  assert.deepEqual(layout.features[0].categories, ['Biscoe', 'Dream']);
  assert.equal(layout.features[1].nullable, true, 'missing numbers are imputed by the graph');
  const renamed = modelInputs([{ name: 'input', type: 'string', categories: ['a'], missing: 0 }, FEATURES[1]]);
  assert.deepEqual(
    renamed.inputs.map((i) => i.name),
    ['_input', 'input'],
    'a feature named like the numeric input keeps its name; the numeric input moves',
  );
  for (const task of ['classification', 'regression'] as const) {
    assert.deepEqual(signatureProblems(datasetSignature(dataset(task), ['label', 'probabilities'])), [], task);
  }
});

test('the graph encodes rows exactly as the in-memory encoder does (imputation, one-hot, unseen categories)', async () => {
  const layout = modelInputs(FEATURES);
  const encoder = fitEncoder(FEATURES, layout, TRAIN);
  assert.deepEqual(encoder.columns, ['mass', 'bill', 'island=Biscoe', 'island=Dream', 'adult']);
  const expected = encoder.matrix(LIVE);
  // mass is imputed with the train mean, 2; Torgersen and a missing island are all zeros.
  assert.deepEqual(expected, [
    [2, 15, 0, 0, 0],
    [2.5, Math.fround(0.1), 0, 1, 1],
    [3, 25, 0, 0, 1],
  ]);
  const model = buildModel({
    name: 'encoder',
    inputs: graphInputs(layout),
    outputs: [{ name: 'encoded', type: 'float32', dims: [encoder.width] }],
    nodes: encoder.nodes('encoded'),
  });
  const session = await ort.InferenceSession.create(Buffer.from(model));
  const signature = datasetSignature(dataset('regression'), ['encoded']);
  const out = await session.run(toFeeds(signature, splitBatch(signature, LIVE)));
  assert.deepEqual(out.encoded.dims, [3, encoder.width]);
  assert.deepEqual(Array.from(out.encoded.data as Float32Array), expected.flat());
  await session.release();
});

test('a whole regression graph serves what the in-memory model predicts (common/inference.ts)', async () => {
  const data = dataset('regression');
  const encoder = fitEncoder(FEATURES, modelInputs(FEATURES), TRAIN);
  const trained = encodedRegressor(encoder, trainRidgeRegression(encoder.matrix(TRAIN), TRAIN.y, { alpha: 0.5 }));
  const session = await ort.InferenceSession.create(Buffer.from(trained.toOnnx(data)));
  const signature = datasetSignature(data, session.outputNames);
  assert.deepEqual(session.outputNames, ['value']);
  const p = await infer(session, signature, splitBatch(signature, LIVE), false);
  assert.ok(p.task === 'regression');
  const want = trained.predict(LIVE);
  Array.from(p.values).forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i])), `${v} ≠ ${want[i]}`));
  await session.release();
});
