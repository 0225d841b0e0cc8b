import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { ModelVersion, RunRecord } from '../../common/contract';
import { json, mlops, ROOT, tempDataDir } from '../helpers/cli';
import { post, startTestServer } from '../helpers/server';
import { exampleCopyDir, tabularCsv } from '../helpers/tabular';

const IRIS_PIPELINE = path.join(ROOT, 'pipeline', 'examples', 'iris', 'pipeline.ts');

/** The iris example with its column names (and nothing else) changed, as a user would do. */
function copyWithColumns(dir: string, features: string[], target: string): string {
  const source = fs.readFileSync(IRIS_PIPELINE, 'utf8');
  const renamed = source
    .replace(/^const FEATURES = \[.*\];$/m, `const FEATURES = ${JSON.stringify(features).replaceAll('"', "'")};`)
    .replace(/^const TARGET = '.*';$/m, `const TARGET = '${target}';`);
  assert.notEqual(renamed, source);
  assert.equal(renamed.split('\n').length, source.split('\n').length, 'only the column lines change');
  const file = path.join(dir, 'pipeline.ts');
  fs.writeFileSync(file, renamed);
  return file;
}

describe('"copy the iris example and change the column names" trains, registers and serves another CSV', () => {
  const copies: string[] = [];
  after(() => copies.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  for (const task of ['classification', 'regression'] as const) {
    test(task, async () => {
      const target = task === 'classification' ? 'grade' : 'price';
      const dir = exampleCopyDir();
      copies.push(dir);
      const data = path.join(dir, 'data.csv');
      fs.writeFileSync(data, tabularCsv(task));
      const pipeline = copyWithColumns(dir, ['length', 'colour', 'coated'], target);

      const dataDir = tempDataDir();
      const r = mlops(dataDir, ['train', pipeline, '--json', '--param', `data=${data}`, '--param', `model=${task}`]);
      assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
      const run = json<RunRecord>(r);
      assert.equal(run.status, 'succeeded');
      // The split files for other languages' steps read back as the CSV: booleans as true/false, missing as empty.
      const [header, ...rows] = fs
        .readFileSync(path.join(run.runDir, 'artifacts', 'train.csv'), 'utf8')
        .trim()
        .split('\n');
      assert.equal(header, `length,colour,coated,${target}`);
      assert.ok(
        rows.every((row) => /^(\d+(\.\d+)?)?,(red|green|blue),(true|false),[\w.-]+$/.test(row)),
        rows.join('\n'),
      );
      assert.ok(
        rows.some((row) => row.startsWith(',')),
        'a missing length stays an empty cell',
      );
      const v = json<ModelVersion>(mlops(dataDir, ['models', 'show', `${task}/1`, '--json']));
      assert.equal(v.signature.task, task);
      assert.deepEqual(
        v.signature.features.map((f) => [f.name, f.type]),
        [
          ['length', 'float32'],
          ['colour', 'string'],
          ['coated', 'bool'],
        ],
      );
      assert.deepEqual(v.signature.features[1].categories, ['blue', 'green', 'red']);
      assert.equal(v.signature.features[0].nullable, true, 'length has missing values: null is accepted and imputed');
      if (v.signature.task === 'classification') {
        assert.deepEqual(v.signature.classLabels, ['high', 'low']);
        assert.ok(run.metrics.accuracy >= 0.9, `accuracy ${run.metrics.accuracy}`);
      } else {
        assert.deepEqual(v.signature.targets, ['price']);
        assert.ok(run.metrics.r2 > 0.95, `R² ${run.metrics.r2}`);
      }

      const server = await startTestServer(dataDir);
      try {
        // A missing length and an unseen colour are both accepted: the graph imputes and one-hot encodes them.
        const records = [
          { length: 15, colour: 'blue', coated: true },
          { length: null, colour: 'purple', coated: false },
        ];
        const answer = await post(`${server.url}/predict`, records);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        const rows = answer.body as Record<string, unknown>[];
        assert.equal(rows.length, 2);
        if (task === 'classification') assert.equal(rows[0].grade, 'high');
        else assert.ok(Math.abs((rows[0].price as number) - (45 + 4 + 5)) < 2, `price ${String(rows[0].price)}`);
      } finally {
        await server.close();
      }
    });
  }
});
