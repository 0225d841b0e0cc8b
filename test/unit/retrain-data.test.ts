import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClassificationSignature } from '../../common/contract';
import { isMlopsError } from '../../common/errors';
import { tabularInput } from '../../common/signature';
import { trainingColumns, writeRetrainData } from '../../server/loop/retrain-data';

const signature: ClassificationSignature = {
  ...tabularInput('input', 'float32', [{ name: 'a' }, { name: 'b' }]),
  task: 'classification',
  target: 'y',
  labelOutput: 'label',
  labelKind: 'index',
  probabilitiesOutput: null,
  classLabels: ['p', 'q'],
};
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'retrain-data-'));
const labelled = [
  { a: 1.5, b: 2, y: 'q' },
  { a: 3, b: null, y: 'p, or so' },
];

test('append: the original file, then the labelled rows under its header (other columns empty)', () => {
  const original = path.join(dir, 'original.csv');
  fs.writeFileSync(original, 'id,b,a,y\n1,0.5,0.25,p\n2,0.75,0.5,q'); // no newline at the end, columns in another order
  const out = path.join(dir, 'append.csv');
  assert.equal(writeRetrainData(out, 'append', original, signature, labelled), 4);
  assert.equal(fs.readFileSync(out, 'utf8'), 'id,b,a,y\n1,0.5,0.25,p\n2,0.75,0.5,q\n,2,1.5,q\n,,3,"p, or so"\n');
});

test('replace: the labelled rows alone under the training columns; none is an error', () => {
  assert.deepEqual(trainingColumns(signature), ['a', 'b', 'y']);
  const out = path.join(dir, 'replace.csv');
  assert.equal(writeRetrainData(out, 'replace', null, signature, labelled), 2);
  assert.equal(fs.readFileSync(out, 'utf8'), 'a,b,y\n1.5,2,q\n3,,"p, or so"\n');
  assert.throws(
    () => writeRetrainData(out, 'replace', null, signature, []),
    (err: unknown) => isMlopsError(err) && /there are no labelled predictions to train on/.test(err.message),
  );
});

test("append to a file without the model's columns names the file and the columns", () => {
  const original = path.join(dir, 'other.csv');
  fs.writeFileSync(original, 'a,z\n1,2\n');
  assert.throws(
    () => writeRetrainData(path.join(dir, 'x.csv'), 'append', original, signature, labelled),
    (err: unknown) => isMlopsError(err) && err.message === `${original}: has no column b, y to append the labelled rows under`,
  );
});
