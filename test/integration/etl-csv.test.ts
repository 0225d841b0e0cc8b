import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { RunRecord } from '../../common/contract';
import { IRIS_CSV, mlops, tempDataDir } from '../helpers/cli';

test('the ETL split files escape labels a spreadsheet would run as formulas, and parse back', () => {
  const dir = tempDataDir();
  const data = path.join(dir, 'formula-labels.csv');
  // Same data, one class renamed to a formula: it trains as any other label.
  fs.writeFileSync(data, fs.readFileSync(IRIS_CSV, 'utf8').replaceAll('"Setosa"', '"=HYPERLINK(""http://x"")"'));
  const r = mlops(dir, ['train', '--json', '--param', `data=${data}`]);
  assert.equal(r.code, 0, r.stderr);
  const run = JSON.parse(r.stdout) as RunRecord;
  const text = fs.readFileSync(path.join(dir, 'runs', run.id, 'artifacts', 'train.csv'), 'utf8');
  const rows = parse(text, { columns: true }) as Record<string, string>[];
  assert.deepEqual(Object.keys(rows[0]), ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'variety']);
  const labels = new Set(rows.map((row) => row.variety));
  assert.deepEqual([...labels].sort(), ['\'=HYPERLINK("http://x")', 'Versicolor', 'Virginica']);
  assert.ok(
    rows.every((row) => Number.isFinite(Number(row.sepal_length))),
    'the features stay plain numbers',
  );
});
