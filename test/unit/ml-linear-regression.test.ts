import { test } from 'node:test';
import assert from 'node:assert/strict';

import { solveSpd, trainRidgeRegression } from '../../pipeline/ml/linear-regression';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} ≠ ${b}`);

test('Cholesky solves a symmetric positive definite system', () => {
  const x = solveSpd(
    [
      [4, 2],
      [2, 3],
    ],
    [10, 8],
  );
  close(x[0], 1.75, 1e-12, 'x0');
  close(x[1], 1.5, 1e-12, 'x1');
  assert.throws(() => solveSpd([[0]], [1]), /singular/);
});

test('with alpha 0 it recovers an exact linear relation, intercept included; a constant column gets weight 0', () => {
  const X = Array.from({ length: 30 }, (_, i) => [i % 7, (i * 3) % 11, 5]);
  const y = X.map(([a, b]) => 2 * a - 0.5 * b + 10);
  const model = trainRidgeRegression(X, y, { alpha: 0 });
  const predicted = model.predict(X);
  predicted.forEach((p, i) => close(p, y[i], 1e-4, `row ${i}`));
  close(model.predict([[0, 0, 5]])[0], 10, 1e-4, 'intercept');
  close(model.predict([[0, 0, 999]])[0], 10, 1e-4, 'the constant column has no weight');
});

test('a larger alpha shrinks the slope toward the mean', () => {
  const X = [[0], [1], [2], [3]];
  const y = [0, 1, 2, 3];
  const slope = (alpha: number) => {
    const m = trainRidgeRegression(X, y, { alpha });
    return m.predict([[1]])[0] - m.predict([[0]])[0];
  };
  close(slope(0), 1, 1e-6, 'no penalty');
  // Standardized: ZᵀZ = 4, so w = 4·s/(4 + alpha) with s the unit slope in z: slope(4) = 1/2.
  close(slope(4), 0.5, 1e-6, 'alpha 4');
  assert.throws(() => trainRidgeRegression([[1]], [1, 2], { alpha: 1 }), /1 rows but y has 2 values/);
  assert.throws(() => trainRidgeRegression([[NaN]], [1], { alpha: 1 }), /finite/);
});
