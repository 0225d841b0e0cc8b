import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { ModelVersion, RunRecord } from '../../common/contract';
import { json, mlops, tempDataDir } from '../helpers/cli';
import { post, startTestServer } from '../helpers/server';

const PENGUINS = 'pipeline/examples/penguins/pipeline.ts';

describe('the penguins regression example, end to end (runner, SQLite, onnxruntime, the real server)', () => {
  const dir = tempDataDir();

  test('mlops train trains, checks parity, gates on R² and RMSE, and registers a regression version', () => {
    const r = mlops(dir, ['train', PENGUINS, '--json']);
    assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
    const run = json<RunRecord>(r);
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(run.registered, { model: 'penguins', version: 1 });
    assert.equal(run.metrics.rows_dropped, 2, 'the two rows without a body mass');
    assert.ok(run.metrics.r2 > 0.8, `R² ${run.metrics.r2}`);
    assert.ok(run.metrics.rmse < 400, `RMSE ${run.metrics.rmse}`);
    assert.equal(run.metrics.onnx_parity, 1);
    assert.ok(run.metrics.onnx_max_relative_gap <= 1e-5);
    for (const a of ['predicted_vs_actual.svg', 'residuals.svg', 'train.csv', 'test.csv']) {
      assert.ok(run.artifacts.includes(a), `artifact ${a}`);
    }
    assert.ok(!run.artifacts.includes('confusion_matrix.svg'));
    const scatter = fs.readFileSync(path.join(run.runDir, 'artifacts', 'predicted_vs_actual.svg'), 'utf8');
    assert.match(scatter, /^<svg[\s\S]*body_mass_g: predicted vs actual[\s\S]*<\/svg>\s*$/);
    // Missing values stay empty cells in the split files for other languages' steps.
    const trainCsv = fs.readFileSync(path.join(run.runDir, 'artifacts', 'train.csv'), 'utf8');
    assert.match(trainCsv.split('\n')[0], /^species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,sex,body_mass_g$/);
    assert.match(trainCsv, /,,\d+\n/, 'a row with a missing sex');
  });

  test('the version carries the typed signature, regression metrics and the target distribution', () => {
    const v = json<ModelVersion>(mlops(dir, ['models', 'show', 'penguins/1', '--json']));
    const s = v.signature;
    assert.ok(s.task === 'regression');
    assert.deepEqual(s.targets, ['body_mass_g']);
    assert.equal(s.valueOutput, 'value');
    assert.deepEqual(
      s.inputs.map((i) => [i.name, i.type, i.width]),
      [
        ['input', 'float32', 3],
        ['species', 'string', 1],
        ['island', 'string', 1],
        ['sex', 'string', 1],
      ],
    );
    assert.deepEqual(s.features.find((f) => f.name === 'island')?.categories, ['Biscoe', 'Dream', 'Torgersen']);
    // No kept row lacks a bill length (the two that did lack the target too): null is refused for it.
    assert.equal(s.features.find((f) => f.name === 'bill_length_mm')?.nullable, undefined);
    const metrics = ['mae', 'onnx_parity', 'r2', 'rmse', 'test_rows', 'train_r2', 'train_rmse', 'train_rows'];
    assert.deepEqual(Object.keys(v.metrics).sort(), metrics);
    const sex = v.reference.features.find((f) => f.name === 'sex');
    assert.ok(sex?.kind === 'categorical');
    assert.deepEqual(sex.categories, ['female', 'male']);
    assert.equal(v.reference.targets?.length, 1);
    const mass = v.reference.targets![0];
    assert.ok(mass.min >= 2700 && mass.max <= 6300 && mass.mean > 4000 && mass.mean < 4400, JSON.stringify(mass));
    assert.equal(v.reference.classShares, undefined);
  });

  test('the gate rejects on R² and on RMSE (exit 3), and registers nothing', () => {
    const other = tempDataDir();
    const r = mlops(other, ['train', '-q', PENGUINS, '--param', 'minR2=0.99', '--param', 'maxRmse=100']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /rejected by the gate: r2 0\.\d{4} is not >= 0\.99; rmse \d+\.\d{4} is not <= 100$/m);
    assert.deepEqual(json<unknown[]>(mlops(other, ['models', 'list', '--json'])), []);
  });

  test('the server answers a prediction in grams, also for an island never seen in training', async () => {
    const server = await startTestServer(dir);
    try {
      const records = [
        { species: 'Gentoo', island: 'Biscoe', bill_length_mm: 47.5, bill_depth_mm: 15, flipper_length_mm: 217, sex: 'male' },
        { species: 'Adelie', island: 'Anvers', bill_length_mm: 38, bill_depth_mm: 18, flipper_length_mm: 190, sex: 'female' },
      ];
      const r = await post(`${server.url}/predict`, records);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const [gentoo, adelie] = r.body as { body_mass_g: number }[];
      assert.ok(gentoo.body_mass_g > 4800 && gentoo.body_mass_g < 6000, `Gentoo ${gentoo.body_mass_g} g`);
      assert.ok(adelie.body_mass_g > 2800 && adelie.body_mass_g < 4000, `Adelie ${adelie.body_mass_g} g`);
    } finally {
      await server.close();
    }
  });

  test('a missing category (sex: null, as in training) is predicted like the training rows without one', async () => {
    const server = await startTestServer(dir);
    try {
      const record = { species: 'Adelie', island: 'Dream', bill_length_mm: 39, bill_depth_mm: 18.5, flipper_length_mm: 190 };
      const r = await post(`${server.url}/predict`, [{ ...record, sex: null }]);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const [{ body_mass_g }] = r.body as { body_mass_g: number }[];
      assert.ok(body_mass_g > 2800 && body_mass_g < 4500, `${body_mass_g} g`);
      // Integers have no missing value: null stays refused where the signature does not allow it.
      const bad = await post(`${server.url}/predict`, [{ ...record, sex: 'male', species: null }]);
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.body), /row 0: field 'species'/);
    } finally {
      await server.close();
    }
  });

  test('its own model.onnx imports with its CSV, missing values included (mlops models register)', () => {
    const v = json<ModelVersion>(mlops(dir, ['models', 'show', 'penguins/1', '--json']));
    const numbers = v.signature.features.filter((f) => f.input === 'input').map((f) => f.name);
    const r = mlops(dir, [
      'models',
      'register',
      v.path,
      '--name',
      'penguins-imported',
      '--data',
      'pipeline/examples/penguins/penguins.csv',
      '--target',
      'body_mass_g',
      '--features',
      numbers.join(','),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const imported = json<ModelVersion>(mlops(dir, ['models', 'show', 'penguins-imported/1', '--json']));
    assert.equal(imported.signature.task, 'regression');
    assert.equal(imported.signature.features.find((f) => f.name === 'sex')?.nullable, true);
    assert.ok(imported.metrics.r2 > 0.8, `R² ${imported.metrics.r2}`);
  });
});
