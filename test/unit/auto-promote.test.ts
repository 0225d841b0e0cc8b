import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LiveQuality } from '../../common/contract';
import { isMlopsError } from '../../common/errors';
import { autoPromoteReason, parseAutoPromote } from '../../server/loop/auto-promote';

const q = (version: number, labelled: number, accuracy: number): LiveQuality => ({
  model: 'iris',
  version,
  labelled,
  windowSize: 500,
  classification: { accuracy, macroF1: accuracy, recall: {} },
  regression: null,
  labelDelayMs: null,
});
const reg = (version: number, labelled: number, rmse: number): LiveQuality => ({
  ...q(version, labelled, 0),
  classification: null,
  regression: { mae: rmse, rmse },
});

test('MLOPS_AUTO_PROMOTE: unset is never; live_<metric>:<rows>; anything else names the format', () => {
  assert.equal(parseAutoPromote(undefined), null);
  assert.equal(parseAutoPromote(' '), null);
  assert.deepEqual(parseAutoPromote('live_accuracy:200'), { metric: 'accuracy', minLabelled: 200 });
  assert.deepEqual(parseAutoPromote('live_rmse:50'), { metric: 'rmse', minLabelled: 50 });
  for (const bad of ['true', 'live_accuracy', 'live_accuracy:0', 'accuracy:20', 'live_auc:20']) {
    assert.throws(
      () => parseAutoPromote(bad),
      (err: unknown) =>
        isMlopsError(err) &&
        err.message ===
          `MLOPS_AUTO_PROMOTE must be ${'live_<accuracy|macro_f1|mae|rmse>:<labelled rows>, e.g. live_accuracy:200'}, got '${bad}'`,
    );
  }
});

test('the challenger is promoted only when both have enough labels and it is at least as good', () => {
  const rule = { metric: 'accuracy' as const, minLabelled: 100 };
  assert.equal(autoPromoteReason(rule, null, q(2, 500, 1)), null);
  assert.equal(autoPromoteReason(rule, q(1, 500, 0.9), q(2, 99, 1)), null, 'too few labels of the challenger');
  assert.equal(autoPromoteReason(rule, q(1, 99, 0.9), q(2, 500, 1)), null, 'too few labels of the champion');
  assert.equal(autoPromoteReason(rule, q(1, 100, 0.9), q(2, 100, 0.89)), null, 'worse');
  assert.equal(
    autoPromoteReason(rule, q(1, 120, 0.9), q(2, 100, 0.9)),
    "live accuracy 0.9000 ≥ champion's 0.9000 over 100 and 120 labelled rows",
  );
  const rmse = { metric: 'rmse' as const, minLabelled: 10 };
  assert.equal(autoPromoteReason(rmse, reg(1, 10, 2), reg(2, 10, 2.5)), null, 'a larger error is worse');
  assert.match(autoPromoteReason(rmse, reg(1, 10, 2), reg(2, 10, 1.5)) ?? '', /^live rmse 1\.5000 ≤ champion's 2\.0000/);
  assert.equal(autoPromoteReason(rule, reg(1, 500, 1), reg(2, 500, 1)), null, 'no accuracy for a regression');
});
