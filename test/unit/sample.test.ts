import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelSignature, TrainingReference } from '../../common/contract';
import { sampleRecords } from '../../extension/sample';

const signature: ModelSignature = {
  inputName: 'input',
  features: [
    { name: 'a', type: 'float32', min: 0, max: 10 },
    { name: 'b', type: 'float32', min: -2, max: 2 },
  ],
  target: 'y',
  labelOutput: 'label',
  probabilitiesOutput: 'probabilities',
  classLabels: ['x', 'z'],
};
const feature = (name: string, mean: number, median: number) => {
  const quantiles = [0, 0, 0, 0, median, 0, 0, 0, 0];
  return { name, count: 10, mean, std: 1, min: 0, max: 0, quantiles, binEdges: [], binShares: [] };
};

test('test records come from the training mean and median, in signature order, rounded', () => {
  const features = [feature('b', 0.123456, -0.5), feature('a', 3.14159, 4)];
  const reference: TrainingReference = { rows: 10, features, classShares: [0.5, 0.5] };
  assert.deepEqual(sampleRecords(signature, reference), [
    { a: 3.14, b: 0.12 },
    { a: 4, b: -0.5 },
  ]);
  assert.deepEqual(Object.keys(sampleRecords(signature, reference)[0]), ['a', 'b']);
});

test('without a reference the records come from the range seen in training; values never leave it', () => {
  assert.deepEqual(sampleRecords(signature, null), [
    { a: 5, b: 0 },
    { a: 2.5, b: -1 },
  ]);
  const odd: TrainingReference = { rows: 1, features: [feature('a', 99, -99)], classShares: [1] };
  assert.deepEqual(sampleRecords(signature, odd), [
    { a: 10, b: 0 },
    { a: 0, b: -1 },
  ]);
});
