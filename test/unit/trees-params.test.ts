import { test } from 'node:test';
import assert from 'node:assert/strict';

import { isMlopsError, isUsageError } from '../../common/errors';
import { trainGradientBoosting } from '../../pipeline/ml/trees/boosting';
import { trainRandomForest } from '../../pipeline/ml/trees/forest';
import { syntheticTable } from '../../pipeline/ml/trees/synthetic';

const { table, target } = syntheticTable({ rows: 50, numeric: 3, task: 'classification', seed: 1 });

/** The call fails with a one-line usage error naming the param, before training (no progress reported). */
function refused(call: (onProgress: () => void) => unknown, param: string): void {
  let progressed = false;
  assert.throws(
    () => call(() => (progressed = true)),
    (err: unknown) => {
      assert.ok(isMlopsError(err) && isUsageError(err), String(err));
      assert.equal(err.code, 'BAD_PARAM_VALUE');
      assert.match(err.message, new RegExp(`^param '${param}' expects `));
      assert.doesNotMatch(err.message, /\n/);
      return true;
    },
  );
  assert.equal(progressed, false);
}

test('gradient boosting refuses bad params with a one-line error', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ maxIter: 0 }, 'maxIter'],
    [{ maxIter: 2.5 }, 'maxIter'],
    [{ learningRate: 0 }, 'learningRate'],
    [{ learningRate: -0.1 }, 'learningRate'],
    [{ maxDepth: 0 }, 'maxDepth'],
    [{ maxBins: 256 }, 'maxBins'],
    [{ maxLeafNodes: 1 }, 'maxLeafNodes'],
    [{ minSamplesLeaf: 0 }, 'minSamplesLeaf'],
    [{ l2: -1 }, 'l2'],
    [{ validationFraction: 1 }, 'validationFraction'],
  ];
  for (const [params, name] of cases) refused((onProgress) => trainGradientBoosting(table, target, params, { onProgress }), name);
});

test('random forest refuses bad params with a one-line error', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ nEstimators: 0 }, 'nEstimators'],
    [{ maxDepth: 0 }, 'maxDepth'],
    [{ maxBins: 300 }, 'maxBins'],
    [{ maxFeatures: 0 }, 'maxFeatures'],
    [{ maxFeatures: 2.5 }, 'maxFeatures'],
    [{ minSamplesLeaf: -3 }, 'minSamplesLeaf'],
  ];
  for (const [params, name] of cases) refused((onProgress) => trainRandomForest(table, target, params, { onProgress }), name);
});
