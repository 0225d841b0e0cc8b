import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { artifactFile, evaluationPictures, isInside } from '../../extension/evaluation-pictures';

const artifacts = [
  'dataset.json',
  'model.onnx',
  'confusion_matrix.svg',
  'predicted_vs_actual.svg',
  'plots/residuals.svg',
  'loss_curve.svg',
];

test('each task shows its own pictures, in order, and the loss curve when there is one', () => {
  assert.deepEqual(
    evaluationPictures('regression', artifacts).map((p) => p.artifact),
    ['predicted_vs_actual.svg', 'plots/residuals.svg', 'loss_curve.svg'],
  );
  assert.deepEqual(
    evaluationPictures('classification', artifacts).map((p) => p.name),
    ['confusion_matrix.svg', 'loss_curve.svg'],
  );
  assert.deepEqual(evaluationPictures('classification', ['model.onnx', 'not_confusion_matrix.svg']), []);
});

test('an artifact resolves inside the run folder only', () => {
  const run = path.join(path.sep, 'data', 'runs', 'r1');
  assert.equal(artifactFile(run, 'plots/residuals.svg'), path.join(run, 'artifacts', 'plots', 'residuals.svg'));
  assert.equal(artifactFile(run, '../events.jsonl'), null);
  assert.equal(artifactFile(run, '/etc/passwd'), null);
  assert.equal(artifactFile(run, ''), null);
  assert.ok(isInside(path.join(path.sep, 'data', 'runs'), path.join(run, 'artifacts', 'a.svg')));
  assert.ok(!isInside(path.join(path.sep, 'data', 'runs'), path.join(path.sep, 'data', 'runs-other', 'a.svg')));
});
