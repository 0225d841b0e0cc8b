import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { checkName } from '../../common/registry/names';
import { csvColumns, defaultModelName, featureList, importRequest } from '../../extension/import-inputs';
import { IRIS_CSV, tempDataDir } from '../helpers/cli';

const dir = tempDataDir('mlops-import-inputs-');
const write = (name: string, text: string | Buffer) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
};

test('the target pick offers the CSV header, read from the file start only', () => {
  assert.deepEqual(csvColumns(IRIS_CSV), ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'variety']);
  assert.deepEqual(csvColumns(write('quoted.csv', '\uFEFF"island, name", bill ,"body_mass_g"\n"Biscoe",1,2\n')), [
    'island, name',
    'bill',
    'body_mass_g',
  ]);
  // A big file: only its header is parsed (a broken row far below does not matter).
  const big = write('big.csv', Buffer.concat([Buffer.from('a,b,y\n'), Buffer.alloc(3 << 20, '1,2,3\n'), Buffer.from('"broken\n')]));
  assert.deepEqual(csvColumns(big), ['a', 'b', 'y']);
});

test('a CSV with no usable header is a one-line error naming the file', () => {
  assert.throws(() => csvColumns(write('empty.csv', '')), { code: 'DATA_SCHEMA', message: /empty\.csv:1: .*got 0 column/ });
  assert.throws(() => csvColumns(write('one.csv', 'y\n1\n')), { code: 'DATA_SCHEMA', message: /got 1 column/ });
  assert.throws(() => csvColumns(write('bad.csv', '"a,b\n')), { code: 'DATA_CSV', message: /bad\.csv:1: / });
  assert.throws(() => csvColumns(path.join(dir, 'missing.csv')), { code: 'DATA_FILE', message: /missing\.csv: cannot read \(ENOENT\)/ });
  assert.throws(
    () => csvColumns(path.join(dir, 'bad.csv')),
    (err: Error) => !err.message.includes('\n'),
    'one line',
  );
});

test('the offered model name is a valid registry name', () => {
  for (const [file, name] of [
    ['/m/penguins.onnx', 'penguins'],
    ['/m/My Model (v2).onnx', 'My-Model-v2-'],
    ['/m/..secret...onnx', 'secret.'],
    ['/m/___.onnx', 'imported'],
    [`/m/${'x'.repeat(100)}.onnx`, 'x'.repeat(64)],
  ] as const) {
    assert.equal(defaultModelName(file), name, file);
    assert.equal(checkName('model name', defaultModelName(file)), name);
  }
});

test('the import request leaves the task to the server on auto and records the extension as importer', () => {
  const answers = { file: '/m/a.onnx', data: '/d/a.csv', target: 'y', name: 'a', gate: true };
  assert.deepEqual(importRequest({ ...answers, task: 'auto' }), {
    file: '/m/a.onnx',
    name: 'a',
    data: '/d/a.csv',
    target: 'y',
    gate: true,
    by: 'extension',
  });
  assert.equal(importRequest({ ...answers, task: 'regression' }).task, 'regression');
  assert.deepEqual(importRequest({ ...answers, task: 'auto', features: ['b', 'a'] }).features, ['b', 'a']);
});

test('feature columns for a single input: empty matches by name, else CSV columns in the typed order', () => {
  const columns = ['a', 'b', 'c', 'y'];
  assert.deepEqual(featureList('  ', columns, 'y'), { features: undefined, problem: null });
  assert.deepEqual(featureList('c, a ,b', columns, 'y'), { features: ['c', 'a', 'b'], problem: null });
  assert.equal(featureList('a, z, w', columns, 'y').problem, 'not a column of the CSV: z, w');
  assert.equal(featureList('a, b, a', columns, 'y').problem, 'listed twice: a');
  assert.equal(featureList('a, y', columns, 'y').problem, 'y is the target, not a feature');
});
