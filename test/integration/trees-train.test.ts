import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { RunRecord } from '../../common/contract';
import { json, mlops, tempDataDir } from '../helpers/cli';

const PENGUINS = 'pipeline/examples/penguins/pipeline.ts';

describe('the tree trainers in the iris pipeline (real runner process, onnxruntime parity)', () => {
  const dir = tempDataDir();

  test('gradient_boosting trains, logs its iterations, writes loss_curve.svg and passes ONNX parity', () => {
    const r = mlops(dir, ['train', '--json', '--param', 'trainer=gradient_boosting', '--param', 'gbMaxIter=40']);
    assert.equal(r.code, 0, r.stderr);
    const run = json<RunRecord>(r);
    assert.equal(run.status, 'succeeded');
    assert.equal(run.metrics.onnx_parity, 1);
    assert.ok(run.metrics.accuracy >= 0.9, `accuracy ${run.metrics.accuracy}`);
    assert.equal(run.metrics.iterations, 40);
    const svg = fs.readFileSync(path.join(run.runDir, 'artifacts', 'loss_curve.svg'), 'utf8');
    assert.match(svg, /^<svg[\s\S]*log-loss \(train\)[\s\S]*<polyline[\s\S]*<\/svg>$/);
    const trainLog = fs.readFileSync(run.steps.find((s) => s.name === 'train')!.logFile, 'utf8');
    assert.match(trainLog, /iteration 2\/40, loss \d/);
    assert.match(trainLog, /iteration 40\/40, loss \d/);
    const events = fs.readFileSync(path.join(run.runDir, 'events.jsonl'), 'utf8');
    assert.match(events, /iteration 40\/40/);
  });

  test('random_forest (ours) trains with ONNX parity', () => {
    const r = mlops(dir, ['train', '--json', '--param', 'trainer=random_forest', '--param', 'nEstimators=10']);
    assert.equal(r.code, 0, r.stderr);
    const run = json<RunRecord>(r);
    assert.match(fs.readFileSync(run.steps.find((s) => s.name === 'train')!.logFile, 'utf8'), /tree 10\/10/);
    assert.equal(run.metrics.onnx_parity, 1);
    assert.ok(run.metrics.accuracy >= 0.9, `accuracy ${run.metrics.accuracy}`);
  });

  test('both tree trainers fit the penguins regression (categories and missing values split natively) with ONNX parity', () => {
    for (const trainer of ['gradient_boosting', 'random_forest']) {
      const r = mlops(dir, ['train', PENGUINS, '--json', '--param', `trainer=${trainer}`]);
      assert.equal(r.code, 0, r.stderr);
      const run = json<RunRecord>(r);
      assert.equal(run.metrics.onnx_parity, 1);
      assert.ok(run.metrics.r2 > 0.8, `${trainer}: R² ${run.metrics.r2}`);
    }
  });

  test('a bad trainer param is refused with one line before any step runs', () => {
    for (const [param, message] of [
      ['gbLearningRate=0', /param 'gbLearningRate' expects a number >= 0.0001, got '0'/],
      ['maxBins=256', /param 'maxBins' expects an integer <= 255, got '256'/],
      ['maxDepth=0', /param 'maxDepth' expects an integer >= 1, got '0'/],
      ['gbMaxIter=0', /param 'gbMaxIter' expects an integer >= 1, got '0'/],
    ] as const) {
      const r = mlops(dir, ['train', '--param', param]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
