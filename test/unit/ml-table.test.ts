import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { isMlopsError } from '../../common/errors';
import { categoriesOf, columnOf, inferColumnType, inferTask, parseTable, readTable, type Column } from '../../pipeline/ml/table';

const CSV = [
  'mass,count,flag,island,score',
  '3750.5,1,true,Biscoe,0.5',
  'NA,2,FALSE,Dream,',
  '4100,10,,"Torgersen, north",1e3',
  '3200,2,true,NA,-2',
].join('\n');

/** The one-line message of the MlopsError fn throws. */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(isMlopsError(err), `expected an MlopsError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return err.message;
  }
  assert.fail('expected an error');
}

test('columns are typed numbers, booleans and strings, with missing values as null', () => {
  const table = parseTable('data.csv', CSV);
  assert.equal(table.rows, 4);
  assert.deepEqual(table.lines, [2, 3, 4, 5]);
  assert.deepEqual(
    table.columns.map((c) => [c.name, c.type, c.missing]),
    [
      ['mass', 'number', 1],
      ['count', 'number', 0],
      ['flag', 'boolean', 1],
      ['island', 'string', 1],
      ['score', 'number', 1],
    ],
  );
  assert.deepEqual(columnOf(table, 'mass').values, [3750.5, null, 4100, 3200]);
  assert.deepEqual(columnOf(table, 'flag').values, [true, false, null, true]);
  assert.deepEqual(columnOf(table, 'island').values, ['Biscoe', 'Dream', 'Torgersen, north', null]);
  assert.deepEqual(columnOf(table, 'score').values, [0.5, null, 1000, -2]);
  // The table is JSON as it is (the dataset artifact).
  assert.deepEqual(JSON.parse(JSON.stringify(table)), table);
});

test('type inference looks at present cells only', () => {
  assert.equal(inferColumnType(['1', '2.5', 'NaN', '-3e2']), 'number');
  assert.equal(inferColumnType(['True', 'false', '']), 'boolean');
  assert.equal(inferColumnType(['1', 'x']), 'string');
  assert.equal(inferColumnType(['0x10', 'Infinity']), 'string', 'only decimal numbers are numbers');
  assert.equal(inferColumnType(['', 'NA']), 'string', 'an all-missing column has no evidence of numbers');
});

test('columns are chosen and ordered, and a type is overridden', () => {
  const table = parseTable('data.csv', CSV, { columns: ['count', 'mass'], types: { count: 'string' } });
  assert.deepEqual(
    table.columns.map((c) => [c.name, c.type]),
    [
      ['count', 'string'],
      ['mass', 'number'],
    ],
  );
  assert.deepEqual(categoriesOf(table.columns[0]), ['1', '10', '2'], 'strings sort by code point');
});

test('errors name the file, the line and the column', () => {
  assert.equal(
    messageOf(() => parseTable('data.csv', CSV, { columns: ['mass', 'colour', 'size'] })),
    "data.csv:1: missing columns 'colour', 'size' (found: mass, count, flag, island, score)",
  );
  assert.equal(
    messageOf(() => parseTable('data.csv', CSV, { types: { island: 'number' } })),
    "data.csv:2: column 'island': 'Biscoe' is not a number (the column's type is number)",
  );
  assert.equal(
    messageOf(() => parseTable('data.csv', CSV, { types: { mass: 'boolean' } })),
    "data.csv:2: column 'mass': '3750.5' is not true or false (the column's type is boolean)",
  );
  assert.match(
    messageOf(() => parseTable('bad.csv', 'a,b\n1,2\n3\n')),
    /^bad\.csv:3: /,
  );
  assert.equal(
    messageOf(() => parseTable('empty.csv', '')),
    'empty.csv:1: the file is empty (expected a header row)',
  );
  assert.equal(
    messageOf(() => parseTable('dup.csv', 'a,a\n1,2\n')),
    "dup.csv:1: column 'a' appears twice in the header",
  );
  assert.equal(
    messageOf(() => readTable('/nonexistent/x.csv')),
    '/nonexistent/x.csv: cannot read (ENOENT)',
  );
  assert.match(
    messageOf(() => columnOf(parseTable('data.csv', CSV), 'nope')),
    /missing column 'nope' \(found: mass,/,
  );
});

test('readTable reads a file, with a BOM and CRLF line ends', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-table-')), 'crlf.csv');
  fs.writeFileSync(file, '\uFEFFx,label\r\n1,a\r\n2,b\r\n');
  const table = readTable(file);
  assert.deepEqual(
    table.columns.map((c) => c.name),
    ['x', 'label'],
  );
  assert.deepEqual(table.columns[0].values, [1, 2]);
});

const numbers = (name: string, values: (number | null)[]): Column => ({ name, type: 'number', values, missing: 0 });

test('the task follows the target like type_of_target, and can be chosen', () => {
  const strings: Column = { name: 'species', type: 'string', values: ['a', 'b', null], missing: 1 };
  assert.equal(inferTask('f.csv', strings), 'classification');
  assert.equal(inferTask('f.csv', { name: 'ok', type: 'boolean', values: [true, false], missing: 0 }), 'classification');
  assert.equal(inferTask('f.csv', numbers('y', [0, 1, 2, 1, null])), 'classification', 'few whole numbers are classes');
  const manyWhole = numbers(
    'y',
    Array.from({ length: 21 }, (_, i) => i),
  );
  assert.equal(inferTask('f.csv', manyWhole), 'regression', 'more than 20 distinct whole numbers are a quantity');
  assert.equal(
    inferTask(
      'f.csv',
      numbers(
        'y',
        Array.from({ length: 20 }, (_, i) => i),
      ),
    ),
    'classification',
  );
  assert.equal(inferTask('f.csv', numbers('y', [0.5, 1, 2])), 'regression');
  assert.equal(inferTask('f.csv', manyWhole, 'classification'), 'classification');
  assert.equal(inferTask('f.csv', numbers('y', [0, 1]), 'regression'), 'regression');
  assert.equal(
    messageOf(() => inferTask('f.csv', strings, 'regression')),
    "f.csv: column 'species': holds strings, not numbers: it cannot be a regression target",
  );
  assert.equal(
    messageOf(() => inferTask('f.csv', numbers('y', [0.5]), 'classification')),
    "f.csv: column 'y': holds fractional numbers: it cannot be a classification target (use task=regression)",
  );
  assert.equal(
    messageOf(() => inferTask('f.csv', strings, 'clustering' as never)),
    "param 'task' expects auto | classification | regression, got 'clustering'",
  );
});

test('categories sort numerically for number columns and skip missing values', () => {
  assert.deepEqual(categoriesOf(numbers('k', [10, 2, null, 2, 1])), ['1', '2', '10']);
  assert.deepEqual(categoriesOf({ name: 'b', type: 'boolean', values: [true, null, false], missing: 1 }), ['false', 'true']);
});
