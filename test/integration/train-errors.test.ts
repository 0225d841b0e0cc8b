import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { IRIS_CSV, mlops, ROOT, tempDataDir } from '../helpers/cli';
import { exampleCopyDir, tabularCsv } from '../helpers/tabular';

const dir = tempDataDir();

/** Runs `mlops train`, expects a failure with one line on stderr matching `message`, and returns that line. */
function fails(args: string[], exitCode: number, message: RegExp): string {
  const r = mlops(dir, ['train', '-q', ...args]);
  const lines = r.stderr.trim().split('\n');
  assert.equal(r.code, exitCode, r.stderr);
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0], message);
  assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
  return lines[0];
}

/** The iris CSV rewritten by `edit` into a file of its own. */
function irisVariant(name: string, edit: (text: string) => string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, edit(fs.readFileSync(IRIS_CSV, 'utf8')));
  return file;
}

describe('typed data errors: one line, a non-zero exit, nothing registered', () => {
  const copies: string[] = [];
  after(() => copies.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  test('a missing column names the file, the column and the columns found', () => {
    const data = irisVariant('no-petal-width.csv', (t) =>
      t
        .split('\n')
        .map((l) => l.split(',').slice(0, 3).concat(l.split(',').slice(4)).join(','))
        .join('\n'),
    );
    const found = 'found: sepal_length, sepal_width, petal_length, variety';
    fails(['--param', `data=${data}`], 1, new RegExp(`no-petal-width\\.csv:1: missing column 'petal_width' \\(${found}\\)$`));
  });

  test('a target with one class', () => {
    const data = irisVariant('setosa-only.csv', (t) =>
      t
        .split('\n')
        .filter((l) => !/Versicolor|Virginica/.test(l))
        .join('\n'),
    );
    fails(
      ['--param', `data=${data}`],
      1,
      /setosa-only\.csv: column 'variety': has one class \('Setosa'\): a classifier needs at least two$/,
    );
  });

  test('a task the target cannot be, and an unknown task (a usage error: exit 2, as every bad param)', () => {
    fails(['--param', 'task=regression'], 1, /column 'variety': holds strings, not numbers: it cannot be a regression target$/);
    fails(['--param', 'task=clustering'], 2, /param 'task' expects one of auto, classification, regression, got 'clustering'$/);
  });

  test('a value that does not fit the column type the pipeline declares names file, line and column', () => {
    const copy = exampleCopyDir();
    copies.push(copy);
    const data = path.join(copy, 'data.csv');
    const rows = tabularCsv('classification').split('\n');
    rows[7] = rows[7].replace(/^[^,]*/, 'seven');
    fs.writeFileSync(data, rows.join('\n'));
    const source = fs.readFileSync(path.join(ROOT, 'pipeline', 'examples', 'iris', 'pipeline.ts'), 'utf8');
    const pipeline = path.join(copy, 'pipeline.ts');
    fs.writeFileSync(
      pipeline,
      source
        .replace(/^const FEATURES = \[.*\];$/m, "const FEATURES = ['length', 'colour', 'coated'];")
        .replace(/^const TARGET = '.*';$/m, "const TARGET = 'grade';")
        .replace(/^const TYPES: .*$/m, "const TYPES: Record<string, ColumnType> = { length: 'number' };"),
    );
    fails(
      [pipeline, '--param', `data=${data}`],
      1,
      /data\.csv:8: column 'length': 'seven' is not a number \(the column's type is number\)$/,
    );
  });

  test('a trainer that cannot fit the data', () => {
    fails(
      ['pipeline/examples/penguins/pipeline.ts', '--param', 'trainer=random_forest'],
      1,
      /step 'train' failed: trainer random_forest cannot train on .*penguins\.csv: it predicts classes, and the target 'body_mass_g' is a /,
    );
    fails(
      ['--param', 'trainer=linear_regression'],
      1,
      /trainer linear_regression cannot train on \S*iris_dataset\.csv: it predicts numbers, and the target has classes/,
    );
  });

  test('nothing was registered', () => {
    const r = mlops(dir, ['models', 'list', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), []);
  });
});
