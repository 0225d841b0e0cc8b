import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClassificationSignature, RegressionSignature } from '../../common/contract';
import {
  categoryList,
  featureType,
  headlineMetrics,
  metricsLine,
  onnxInputs,
  onnxOutputs,
  predictionSummary,
  runMetricsLine,
  signatureLine,
} from '../../extension/model-text';

const regression: RegressionSignature = {
  schema: 2,
  task: 'regression',
  inputs: [
    { name: 'island', type: 'string', width: 1, rank: 1 },
    { name: 'num', type: 'float32', width: 2, rank: 2 },
  ],
  features: [
    { name: 'island', type: 'string', input: 'island', column: 0, categories: ['Biscoe', 'Dream', 'Torgersen'] },
    { name: 'bill_length_mm', type: 'float32', input: 'num', column: 0, min: 32.1, max: 59.6 },
    { name: 'flipper_length_mm', type: 'float32', input: 'num', column: 1, min: 172, max: 231, nullable: true },
  ],
  targets: ['body_mass_g'],
  valueOutput: 'variable',
};

const classification: ClassificationSignature = {
  schema: 2,
  task: 'classification',
  inputs: [{ name: 'input', type: 'float32', width: 1, rank: 2 }],
  features: [{ name: 'x', type: 'float32', input: 'input', column: 0, min: 0, max: 1 }],
  target: 'species',
  labelOutput: 'label',
  labelKind: 'index',
  probabilitiesOutput: 'probabilities',
  classLabels: ['a', 'b', 'c'],
};

test('headline metrics follow the task, and fall back to whatever was recorded', () => {
  const metrics = { train_accuracy: 1, accuracy: 0.9667, macro_f1: 0.9666, rmse: 3 };
  assert.deepEqual(headlineMetrics('classification', metrics), [
    ['accuracy', 0.9667],
    ['macro_f1', 0.9666],
  ]);
  assert.deepEqual(headlineMetrics('regression', { mae: 240.5, r2: 0.86, rmse: 301.25 }), [
    ['rmse', 301.25],
    ['r2', 0.86],
  ]);
  assert.deepEqual(headlineMetrics('regression', { custom: 2, other: Number.NaN, third: 1 }), [
    ['custom', 2],
    ['third', 1],
  ]);
  assert.deepEqual(headlineMetrics('regression', {}), []);
});

test('the metrics line names the task and its metrics', () => {
  assert.equal(metricsLine(regression, { mae: 240.5, r2: 0.8612, rmse: 301.25 }), 'regression · RMSE 301.250 · R² 0.861');
  assert.equal(metricsLine(classification, { accuracy: 0.96667, macro_f1: 0.9 }), 'classification · acc 0.967 · F1 0.900');
  assert.equal(metricsLine(classification, {}), 'classification');
});

test('a run without a signature shows the metrics of the task it recorded', () => {
  assert.equal(runMetricsLine({ accuracy: 0.96667, macro_f1: 0.9, train_accuracy: 1 }), 'acc 0.967 · F1 0.900');
  assert.equal(runMetricsLine({ rmse: 301.25, r2: 0.8612, mae: 240 }), 'RMSE 301.250 · R² 0.861');
  assert.equal(runMetricsLine({ rows: 100 }), '');
});

test('features read with their types, categories and ranges', () => {
  assert.equal(featureType(regression.features[0]), 'string, 3 categories');
  assert.equal(featureType(regression.features[1]), 'float32, 32.100 … 59.600');
  assert.equal(featureType(regression.features[2]), 'float32?, 172 … 231');
  assert.equal(featureType({ name: 'b', type: 'bool', input: 'b', column: 0 }), 'bool');
  assert.equal(
    featureType({ name: 'k', type: 'int64', input: 'k', column: 0, categories: ['1'], strict: true }),
    'int64, 1 category, strict',
  );
});

test('a model card lists a few categories, and how many there are when there are more', () => {
  assert.equal(categoryList(['Biscoe', 'Dream']), 'Biscoe, Dream');
  assert.equal(categoryList(undefined), '');
  assert.equal(categoryList(['a', 'b', 'c', 'd'], 2), 'a, b … (4)');
});

test('the signature reads as inputs with types, then what it predicts', () => {
  assert.equal(
    signatureLine(regression),
    'island: string · bill_length_mm: float32 · flipper_length_mm: float32 → body_mass_g (regression)',
  );
  assert.equal(signatureLine(classification), 'x: float32 → species (3 classes)');
  assert.deepEqual(onnxInputs(regression), ['island string [N]', 'num float32 [N, 2]']);
  assert.deepEqual(onnxOutputs(regression), ['variable (values: body_mass_g)']);
  assert.deepEqual(onnxOutputs(classification), ['label (label, index)', 'probabilities (probabilities)']);
  assert.deepEqual(onnxOutputs({ ...classification, probabilitiesOutput: null }), ['label (label, index)']);
});

test('a prediction answer reads as labels or as values per target', () => {
  assert.equal(predictionSummary(classification, [{ species: 'a' }, { species: 'c' }]), 'a, c');
  assert.equal(predictionSummary(regression, [{ body_mass_g: 4123.456 }, { body_mass_g: 3800 }]), 'body_mass_g 4123.46, 3800');
  const two: RegressionSignature = { ...regression, targets: ['y1', 'y2'] };
  assert.equal(predictionSummary(two, [{ y1: 1.5, y2: 2 }]), 'y1 1.50; y2 2');
  assert.equal(predictionSummary(regression, { error: 'bad' }), '{"error":"bad"}');
  assert.equal(predictionSummary(regression, [{}]), 'body_mass_g -');
});
