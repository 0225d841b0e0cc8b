// The import with no Python at all: the typed test models (test/helpers/typed-models.ts, written by
// the project's own ONNX writer) saved as files and imported from CSVs. The import must find the
// signatures those tests write by hand: a [N, F] input mixed with a per-column string input
// (regression), and per-column float32, int64, bool and string inputs (classification).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FeatureSpec, ModelVersion } from '../../common/contract';
import { json, mlops, tempDataDir } from '../helpers/cli';
import { post, startTestServer, type TestServer } from '../helpers/server';
import { COLORS, grade, housePrice, HOUSES, mixedClassifier, regressionModel } from '../helpers/typed-models';

const work = tempDataDir('mlops-import-typed-');
const write = (name: string, content: string | Uint8Array) => {
  const file = path.join(work, name);
  fs.writeFileSync(file, content);
  return file;
};
const csv = (header: string[], rows: Record<string, unknown>[]) =>
  [header.join(','), ...rows.map((r) => header.map((h) => r[h]).join(','))].join('\n');
/** A feature without what only a hand-written signature says (strictness, nullable) or only the CSV knows (ranges, category order). */
const shape = (f: FeatureSpec) => ({
  name: f.name,
  type: f.type,
  input: f.input,
  column: f.column,
  categories: f.categories && [...f.categories].sort(),
});

const FLATS = Array.from({ length: 40 }, (_, i) => ({ length: i % 11, rooms: 1 + (i % 5), garden: i % 3 === 0, color: COLORS[i % 2] }));

describe('typed models imported from CSVs (no Python)', () => {
  const dir = tempDataDir();
  let server: TestServer;
  const houses = regressionModel();
  const flats = mixedClassifier();
  const housesFile = write('houses.onnx', houses.onnx);
  const flatsFile = write('flats.onnx', flats.onnx);
  const housesCsv = write(
    'houses.csv',
    csv(
      ['area', 'age', 'city', 'price'],
      HOUSES.map((h) => ({ ...h, price: housePrice(h) })),
    ),
  );
  const flatsCsv = write(
    'flats.csv',
    csv(
      ['length', 'rooms', 'garden', 'color', 'grade'],
      FLATS.map((f) => ({ ...f, grade: grade(f) })),
    ),
  );
  before(async () => {
    server = await startTestServer(dir, { MLOPS_MODEL: 'houses' });
  });
  after(() => server?.close());

  test('a [N, F] input from --features beside a per-column string input: the regression signature', () => {
    const r = mlops(dir, [
      'models',
      'register',
      housesFile,
      '--name',
      'houses',
      '--data',
      housesCsv,
      '--target',
      'price',
      '--features',
      'area,age',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const v = json<ModelVersion>(r);
    const { features, ...rest } = v.signature;
    const { features: expected, ...expectedRest } = houses.signature;
    assert.deepEqual(rest, expectedRest);
    assert.deepEqual(features.map(shape), expected.map(shape));
    assert.deepEqual([features[0].min, features[0].max], [20, 137]);
    assert.ok(v.metrics.rmse < 1e-3 && v.metrics.r2 > 0.999999, JSON.stringify(v.metrics));
    assert.deepEqual(v.reference.targets?.[0].count, HOUSES.length);
  });

  test('per-column float32, int64, bool and string inputs: the classification signature', () => {
    const r = mlops(dir, ['models', 'register', flatsFile, '--name', 'flats', '--data', flatsCsv, '--target', 'grade', '--gate', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const v = json<ModelVersion>(r);
    const { features, ...rest } = v.signature;
    const { features: expected, ...expectedRest } = flats.signature;
    assert.deepEqual(rest, expectedRest);
    assert.deepEqual(features.map(shape), expected.map(shape));
    assert.equal(v.metrics.accuracy, 1);
  });

  test('served: the imported regression answers the value', async () => {
    await server.holder.refresh();
    const row = { area: 50, age: 3, city: 'paris' };
    const res = await post(`${server.url}/predict`, [row]);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const [answer] = res.body as { price: number }[];
    assert.ok(Math.abs(answer.price - housePrice(row)) < 1e-3, JSON.stringify(res.body));
  });

  test('a CSV value its input cannot take names the file, line and column', () => {
    const bad = (name: string, edit: (line: string) => string) =>
      write(
        name,
        fs
          .readFileSync(flatsCsv, 'utf8')
          .split('\n')
          .map((l, i) => (i === 2 ? edit(l) : l))
          .join('\n'),
      );
    const run = (data: string) => mlops(dir, ['models', 'register', flatsFile, '--name', 'flats', '--data', data, '--target', 'grade']);
    const fraction = run(bad('fraction.csv', (l) => l.replace(/^(\d+),(\d+)/, '$1,2.5')));
    assert.equal(fraction.code, 1);
    assert.match(fraction.stderr, /fraction\.csv:3: column 'rooms': '2\.5' is not a whole number\n$/);
    const maybe = run(bad('maybe.csv', (l) => l.replace(/,(true|false),/, ',maybe,')));
    assert.equal(maybe.code, 1);
    assert.match(maybe.stderr, /maybe\.csv:3: column 'garden': 'maybe' is not true or false/);
    const versions = json<{ versions: ModelVersion[] }>(mlops(dir, ['models', 'show', 'flats', '--json'])).versions;
    assert.equal(versions.length, 1, 'nothing registered by the failed imports');
  });
});
