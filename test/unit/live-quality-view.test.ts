import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LiveQuality } from '../../common/contract';
import { formatDelay, qualityCaption, qualityRows } from '../../media/metrics/live-quality';

const base: LiveQuality = {
  model: 'iris',
  version: 3,
  labelled: 120,
  windowSize: 500,
  classification: null,
  regression: null,
  labelDelayMs: null,
};

test('label delays read as people say them', () => {
  assert.deepEqual([850, 12_000, 210_000, 7_560_000, 129_600_000, 30 * 86_400_000].map(formatDelay), [
    '850 ms',
    '12 s',
    '3.5 min',
    '2.1 h',
    '1.5 d',
    '30 d',
  ]);
});

test('the caption says how many labels, the window when full, and the delay', () => {
  assert.match(qualityCaption(null), /No ground truth yet: .*POST \/feedback/);
  assert.equal(qualityCaption(base), 'iris version 3: 120 labelled predictions');
  const full = { ...base, labelled: 500, labelDelayMs: { p50: 90_000, max: 7_200_000 } };
  assert.equal(qualityCaption(full), 'iris version 3: the last 500 labelled predictions · label delay median 1.5 min, max 2 h');
});

test('rows: accuracy, macro F1 and recall per class; MAE and RMSE for a regression', () => {
  const cls = { ...base, classification: { accuracy: 2 / 3, macroF1: 5 / 9, recall: { Setosa: 1, Virginica: 0.5 } } };
  assert.deepEqual(qualityRows(cls), [
    ['accuracy', '0.667'],
    ['macro F1', '0.556'],
    ['recall Setosa', '1.000'],
    ['recall Virginica', '0.500'],
  ]);
  assert.deepEqual(qualityRows({ ...base, regression: { mae: 123.456, rmse: 150.04 } }), [
    ['MAE', '123.5'],
    ['RMSE', '150'],
  ]);
});
