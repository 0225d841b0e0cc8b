import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { NewVersion } from '../../common/registry';
import { openRegistry, parseModelRef } from '../../common/registry';
import { tabularInput } from '../../common/signature';
import { tempDataDir } from '../helpers/cli';

function version(dir: string, model = 'iris'): NewVersion {
  const file = path.join(dir, `upload-${Math.random()}.onnx`);
  fs.writeFileSync(file, `not really onnx ${Math.random()}`);
  return {
    model,
    onnxFile: file,
    signature: {
      ...tabularInput('input', 'float32', [{ name: 'x', min: 0, max: 1 }]),
      task: 'classification',
      target: 'y',
      labelOutput: 'label',
      labelKind: 'index',
      probabilitiesOutput: 'probabilities',
      classLabels: ['a', 'b'],
    },
    metrics: { accuracy: 0.95 },
    params: { seed: 1 },
    lineage: { runId: null, pipeline: null, git: { commit: null, branch: null, dirty: null }, dataFiles: [] },
    reference: { rows: 0, features: [], classShares: [0.5, 0.5] },
  };
}

test('versions are numbered, immutable, and their files and sha256 match', () => {
  const dir = tempDataDir();
  const r = openRegistry(dir);
  const v1 = r.models.register(version(dir));
  const v2 = r.models.register(version(dir));
  assert.deepEqual([v1.version, v2.version], [1, 2]);
  assert.equal(v2.path, path.join(dir, 'models', 'iris', '2', 'model.onnx'));
  assert.ok(fs.existsSync(v2.path));
  assert.deepEqual(
    r.models.versions('iris').map((v) => v.aliases),
    [['latest'], []],
  );
  assert.throws(() => r.db.prepare(`UPDATE model_versions SET sha256 = 'x' WHERE version = 1`).run(), /immutable/);
  assert.equal(fs.readdirSync(path.join(dir, 'models', '.staging')).length, 0, 'staging is cleaned');
  r.close();
});

test('aliases move with an append-only history; latest and production resolve', () => {
  const dir = tempDataDir();
  const r = openRegistry(dir);
  r.models.register(version(dir));
  r.models.register(version(dir));
  assert.equal(r.models.resolve(parseModelRef('iris')).version, 2, 'no production alias: latest');
  r.models.setAlias('iris', 'production', 1, 'test');
  assert.equal(r.models.resolve(parseModelRef('iris')).version, 1, 'production when it exists');
  r.models.setAlias('iris', 'production', 2, 'test');
  r.models.setAlias('iris', 'staging', 1, 'test');
  assert.equal(r.models.resolve(parseModelRef('iris@staging')).version, 1);
  assert.equal(r.models.resolve(parseModelRef('iris@latest')).version, 2);
  assert.equal(r.models.resolve(parseModelRef('iris/1')).version, 1);
  assert.throws(() => r.models.resolve(parseModelRef('iris@canary')), /alias 'canary' of model 'iris' not found/);
  assert.deepEqual(
    r.models.history('iris').map((h) => [h.alias, h.fromVersion, h.toVersion, h.by]),
    [
      ['production', null, 1, 'test'],
      ['production', 1, 2, 'test'],
      ['staging', null, 1, 'test'],
    ],
  );
  assert.throws(() => r.db.prepare(`DELETE FROM alias_history`).run(), /append-only/);
  assert.throws(() => r.db.prepare(`UPDATE alias_history SET to_version = 9`).run(), /append-only/);
  assert.throws(() => r.models.setAlias('iris', 'production', 7, 'test'), /version 7 not found/);
  assert.throws(() => r.models.setAlias('iris', '3', 1, 'test'), /cannot be a number/);
  assert.equal(r.models.history('iris').length, 3, 'a refused move writes no history');
  r.close();
});

test('names that could escape the data folder are refused', () => {
  for (const bad of ['../x', 'a/b', '.hidden', 'x..y', '', 'a b', 'é']) {
    assert.throws(() => parseModelRef(bad), /invalid (model name|version)/, bad);
  }
  assert.throws(() => parseModelRef('iris/../../etc'), /invalid version/);
  assert.throws(() => parseModelRef('iris@../x'), /invalid alias/);
  const dir = tempDataDir();
  const r = openRegistry(dir);
  assert.throws(() => r.runs.get('../../etc/passwd'), /invalid run id/);
  assert.throws(() => r.models.register(version(dir, '../evil')), /invalid model name/);
  r.close();
});

test('opening the registry repairs crash leftovers: orphan folders and runs of dead runners', () => {
  const dir = tempDataDir();
  const r = openRegistry(dir);
  r.models.register(version(dir));
  const git = { commit: null, branch: null, dirty: null };
  r.runs.create(
    { id: 'dead', pipeline: 'p', pipelineFile: 'p.ts', params: {}, runDir: path.join(dir, 'runs', 'dead'), pid: 2 ** 22 + 1, git },
    ['a', 'b'].map((name) => ({ name, kind: 'function' as const, needs: [] })),
  );
  r.runs.stepStarted('dead', 'a');
  r.runs.create(
    { id: 'alive', pipeline: 'p', pipelineFile: 'p.ts', params: {}, runDir: path.join(dir, 'runs', 'alive'), pid: process.pid, git },
    [{ name: 'a', kind: 'function', needs: [] }],
  );
  r.close();
  fs.mkdirSync(path.join(dir, 'models', 'iris', '2'), { recursive: true }); // moved, never committed
  fs.writeFileSync(path.join(dir, 'models', 'iris', '2', 'model.onnx'), 'partial');

  const again = openRegistry(dir);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'models', 'iris')), ['1']);
  const dead = again.runs.get('dead');
  assert.equal(dead.status, 'failed');
  assert.deepEqual(
    dead.steps.map((s) => s.status),
    ['failed', 'skipped'],
  );
  assert.equal(again.runs.get('alive').status, 'running', 'a live runner keeps its run');
  assert.equal(again.models.register(version(dir)).version, 2);
  again.close();
});

test('promoteFrom moves production to the challenger and removes the challenger alias in one step, with history', () => {
  const dir = tempDataDir();
  const r = openRegistry(dir);
  r.models.register(version(dir));
  r.models.register(version(dir));
  r.models.setAlias('iris', 'production', 1, 'test');
  assert.throws(() => r.models.promoteFrom('iris', 'challenger', 'production', 'test'), /no challenger alias: set one first/);
  assert.throws(() => r.models.promoteFrom('nope', 'challenger', 'production', 'test'), /model 'nope' not found/);
  r.models.setAlias('iris', 'challenger', 1, 'test');
  assert.throws(() => r.models.promoteFrom('iris', 'challenger', 'production', 'test'), /already iris@production \(version 1\)/);
  r.models.setAlias('iris', 'challenger', 2, 'test');
  const moves = r.models.promoteFrom('iris', 'challenger', 'production', 'cli:me');
  assert.deepEqual(
    moves.map((m) => [m.alias, m.fromVersion, m.toVersion, m.removed ?? false]),
    [
      ['production', 1, 2, false],
      ['challenger', 2, 2, true],
    ],
  );
  assert.deepEqual(r.models.versions('iris')[0].aliases, ['production', 'latest']);
  assert.throws(() => r.models.resolve(parseModelRef('iris@challenger')), /alias 'challenger' of model 'iris' not found/);
  const history = r.models.history('iris');
  assert.deepEqual(
    history.slice(-2).map((h) => [h.alias, h.toVersion, h.by, h.removed ?? false]),
    [
      ['production', 2, 'cli:me', false],
      ['challenger', 2, 'cli:me', true],
    ],
  );
  assert.equal(r.models.removeAlias('iris', 'challenger', 'test'), null, 'removing an absent alias writes nothing');
  assert.equal(r.models.history('iris').length, history.length);
  assert.throws(() => r.db.prepare(`UPDATE alias_history SET removed = 0`).run(), /append-only/);
  r.close();
});
