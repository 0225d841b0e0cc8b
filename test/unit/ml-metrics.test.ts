import { test } from 'node:test';
import assert from 'node:assert/strict';

import { classificationReport, regressionReport } from '../../pipeline/ml/metrics';

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} ≠ ${expected}`);

test('classification report on a hand-computed example', () => {
  // Class "d" never occurs nor is predicted: its metrics are 0, not NaN, and it still counts in the macro mean.
  const report = classificationReport([0, 0, 0, 1, 1, 2], [0, 1, 0, 1, 2, 2], ['a', 'b', 'c', 'd']);
  assert.deepEqual(report.confusion, [
    [2, 1, 0, 0],
    [0, 1, 1, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 0],
  ]);
  close(report.accuracy, 4 / 6, 'accuracy');
  const expected = [
    { label: 'a', precision: 1, recall: 2 / 3, f1: 0.8, support: 3 },
    { label: 'b', precision: 0.5, recall: 0.5, f1: 0.5, support: 2 },
    { label: 'c', precision: 0.5, recall: 1, f1: 2 / 3, support: 1 },
    { label: 'd', precision: 0, recall: 0, f1: 0, support: 0 },
  ];
  expected.forEach((e, k) => {
    const c = report.perClass[k];
    assert.equal(c.label, e.label);
    assert.equal(c.support, e.support);
    close(c.precision, e.precision, `${e.label} precision`);
    close(c.recall, e.recall, `${e.label} recall`);
    close(c.f1, e.f1, `${e.label} f1`);
  });
  close(report.macroF1, (0.8 + 0.5 + 2 / 3 + 0) / 4, 'macro F1');
});

test('a class predicted but never true has precision 0 and recall 0', () => {
  const report = classificationReport([0, 0], [1, 0], ['x', 'y']);
  assert.deepEqual(report.perClass[1], { label: 'y', precision: 0, recall: 0, f1: 0, support: 0 });
  assert.equal(report.perClass[0].precision, 1);
  assert.equal(report.perClass[0].recall, 0.5);
});

test('empty input gives zeros, not NaN', () => {
  const report = classificationReport([], [], ['x', 'y']);
  assert.equal(report.accuracy, 0);
  assert.equal(report.macroF1, 0);
  assert.deepEqual(report.confusion, [
    [0, 0],
    [0, 0],
  ]);
});

test('mismatched lengths and unknown class indexes are rejected', () => {
  assert.throws(() => classificationReport([0, 1], [0], ['x', 'y']), /2 labels but yPred has 1/);
  assert.throws(() => classificationReport([0, 2], [0, 1], ['x', 'y']), /label 2 at row 1/);
  assert.throws(() => classificationReport([0, 1], [0, 0.5], ['x', 'y']), /label 0.5 at row 1/);
});

test('regression report: RMSE, MAE and R² on hand-computed values', () => {
  // Errors 1, -1, 2, 0: squared sum 6, absolute sum 4; truth mean 2.5, SS_tot 5.
  const r = regressionReport([1, 2, 3, 4], Float32Array.from([0, 3, 1, 4]));
  assert.equal(r.rows, 4);
  close(r.rmse, Math.sqrt(6 / 4), 'rmse');
  close(r.mae, 1, 'mae');
  close(r.r2, 1 - 6 / 5, 'r2');
  assert.equal(regressionReport([3, 3], [3, 3]).r2, 1, 'constant truth, perfect prediction');
  assert.equal(regressionReport([3, 3], [2, 3]).r2, 0, 'constant truth, imperfect prediction: 0, not -Infinity');
  assert.throws(() => regressionReport([1], [1, 2]), /1 values but yPred has 2/);
});
