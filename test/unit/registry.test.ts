import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { HeldLease, openRegistry, openSqliteRegistry, parseModelRef, type StagedArtifact } from '../../common/registry';
import { LocalArtifactStore } from '../../common/registry/local-artifacts';
import { runnerHost } from '../../common/registry/runs';
import { tempDataDir } from '../helpers/cli';
import { checkLeases, checkRunJudgement, newVersion as version, sqliteDb } from '../helpers/registry';

test('versions are numbered, immutable, and their files and sha256 match', async () => {
  const dir = tempDataDir();
  const r = await openRegistry({ dataDir: dir });
  const v1 = await r.models.register(version(dir));
  const v2 = await r.models.register(version(dir));
  assert.deepEqual([v1.version, v2.version], [1, 2]);
  assert.equal(v2.path, path.join(dir, 'models', 'iris', '2', 'model.onnx'));
  assert.ok(fs.existsSync(v2.path));
  assert.deepEqual(
    (await r.models.versions('iris')).map((v) => v.aliases),
    [['latest'], []],
  );
  assert.throws(() => sqliteDb(r).prepare(`UPDATE model_versions SET sha256 = 'x' WHERE version = 1`).run(), /immutable/);
  assert.equal(fs.readdirSync(path.join(dir, 'models', '.staging')).length, 0, 'staging is cleaned');
  await r.close();
});

test('aliases move with an append-only history; latest and production resolve', async () => {
  const dir = tempDataDir();
  const r = await openRegistry({ dataDir: dir });
  await r.models.register(version(dir));
  await r.models.register(version(dir));
  assert.equal((await r.models.resolve(parseModelRef('iris'))).version, 2, 'no production alias: latest');
  await r.models.setAlias('iris', 'production', 1, 'test');
  assert.equal((await r.models.resolve(parseModelRef('iris'))).version, 1, 'production when it exists');
  await r.models.setAlias('iris', 'production', 2, 'test');
  await r.models.setAlias('iris', 'staging', 1, 'test');
  assert.equal((await r.models.resolve(parseModelRef('iris@staging'))).version, 1);
  assert.equal((await r.models.resolve(parseModelRef('iris@latest'))).version, 2);
  assert.equal((await r.models.resolve(parseModelRef('iris/1'))).version, 1);
  await assert.rejects(r.models.resolve(parseModelRef('iris@canary')), /alias 'canary' of model 'iris' not found/);
  assert.deepEqual(
    (await r.models.history('iris')).map((h) => [h.alias, h.fromVersion, h.toVersion, h.by]),
    [
      ['production', null, 1, 'test'],
      ['production', 1, 2, 'test'],
      ['staging', null, 1, 'test'],
    ],
  );
  assert.throws(() => sqliteDb(r).prepare(`DELETE FROM alias_history`).run(), /append-only/);
  assert.throws(() => sqliteDb(r).prepare(`UPDATE alias_history SET to_version = 9`).run(), /append-only/);
  await assert.rejects(r.models.setAlias('iris', 'production', 7, 'test'), /version 7 not found/);
  await assert.rejects(r.models.setAlias('iris', '3', 1, 'test'), /cannot be a number/);
  assert.equal((await r.models.history('iris')).length, 3, 'a refused move writes no history');
  await r.close();
});

test('names that could escape the data folder are refused', async () => {
  for (const bad of ['../x', 'a/b', '.hidden', 'x..y', '', 'a b', 'é']) {
    assert.throws(() => parseModelRef(bad), /invalid (model name|version)/, bad);
  }
  assert.throws(() => parseModelRef('iris/../../etc'), /invalid version/);
  assert.throws(() => parseModelRef('iris@../x'), /invalid alias/);
  const dir = tempDataDir();
  const r = await openRegistry({ dataDir: dir });
  await assert.rejects(r.runs.get('../../etc/passwd'), /invalid run id/);
  await assert.rejects(r.models.register(version(dir, '../evil')), /invalid model name/);
  await r.close();
});

test('opening the registry repairs crash leftovers: orphan folders and runs of dead runners', async () => {
  const dir = tempDataDir();
  const r = await openRegistry({ dataDir: dir });
  await r.models.register(version(dir));
  const git = { commit: null, branch: null, dirty: null };
  await r.runs.create(
    { id: 'dead', pipeline: 'p', pipelineFile: 'p.ts', params: {}, runDir: path.join(dir, 'runs', 'dead'), pid: 2 ** 22 + 1, git },
    ['a', 'b'].map((name) => ({ name, kind: 'function' as const, needs: [] })),
  );
  await r.runs.stepStarted('dead', 'a');
  await r.runs.create(
    { id: 'alive', pipeline: 'p', pipelineFile: 'p.ts', params: {}, runDir: path.join(dir, 'runs', 'alive'), pid: process.pid, git },
    [{ name: 'a', kind: 'function', needs: [] }],
  );
  await r.close();
  fs.mkdirSync(path.join(dir, 'models', 'iris', '2'), { recursive: true }); // moved, never committed
  fs.writeFileSync(path.join(dir, 'models', 'iris', '2', 'model.onnx'), 'partial');

  const again = await openRegistry({ dataDir: dir });
  assert.deepEqual(fs.readdirSync(path.join(dir, 'models', 'iris')), ['1']);
  const dead = await again.runs.get('dead');
  assert.equal(dead.status, 'failed');
  assert.deepEqual(
    dead.steps.map((s) => s.status),
    ['failed', 'skipped'],
  );
  assert.equal((await again.runs.get('alive')).status, 'running', 'a live runner keeps its run');
  assert.equal((await again.models.register(version(dir))).version, 2);
  await again.close();
});

test("reopening judges this host's runs by pid, another host's by its runner's lease (live: running; lapsed: failed)", async () => {
  const dir = tempDataDir();
  const r = await openRegistry({ dataDir: dir });
  await checkRunJudgement(
    r,
    () => openRegistry({ dataDir: dir }),
    async (statement) => sqliteDb(r).prepare(statement).run(),
  );
  await r.close();
});

test('MLOPS_HOST_ID names the host runs record, else the hostname', () => {
  assert.equal(runnerHost({ MLOPS_HOST_ID: ' runner-a ' }), 'runner-a');
  assert.equal(runnerHost({}), os.hostname());
  assert.equal(runnerHost({ MLOPS_HOST_ID: '' }), os.hostname());
});

test('promoteFrom moves production to the challenger and removes the challenger alias in one step, with history', async () => {
  const dir = tempDataDir();
  const r = await openRegistry({ dataDir: dir });
  await r.models.register(version(dir));
  await r.models.register(version(dir));
  await r.models.setAlias('iris', 'production', 1, 'test');
  await assert.rejects(r.models.promoteFrom('iris', 'challenger', 'production', 'test'), /no challenger alias: set one first/);
  await assert.rejects(r.models.promoteFrom('nope', 'challenger', 'production', 'test'), /model 'nope' not found/);
  await r.models.setAlias('iris', 'challenger', 1, 'test');
  await assert.rejects(r.models.promoteFrom('iris', 'challenger', 'production', 'test'), /already iris@production \(version 1\)/);
  await r.models.setAlias('iris', 'challenger', 2, 'test');
  const moves = await r.models.promoteFrom('iris', 'challenger', 'production', 'cli:me');
  assert.deepEqual(
    moves.map((m) => [m.alias, m.fromVersion, m.toVersion, m.removed ?? false]),
    [
      ['production', 1, 2, false],
      ['challenger', 2, 2, true],
    ],
  );
  assert.deepEqual((await r.models.versions('iris'))[0].aliases, ['production', 'latest']);
  await assert.rejects(r.models.resolve(parseModelRef('iris@challenger')), /alias 'challenger' of model 'iris' not found/);
  const history = await r.models.history('iris');
  assert.deepEqual(
    history.slice(-2).map((h) => [h.alias, h.toVersion, h.by, h.removed ?? false]),
    [
      ['production', 2, 'cli:me', false],
      ['challenger', 2, 'cli:me', true],
    ],
  );
  assert.equal(await r.models.removeAlias('iris', 'challenger', 'test'), null, 'removing an absent alias writes nothing');
  assert.equal((await r.models.history('iris')).length, history.length);
  assert.throws(() => sqliteDb(r).prepare(`UPDATE alias_history SET removed = 0`).run(), /append-only/);
  await r.close();
});

test('exportRows/importRows copy every table into an empty registry, keeping numbers, ids and times; a filled one refuses', async () => {
  const dir = tempDataDir();
  const r = await openRegistry({ dataDir: dir });
  await r.models.register(version(dir));
  await r.models.register(version(dir));
  await r.models.setAlias('iris', 'production', 1, 'test');
  await r.models.setAlias('iris', 'challenger', 2, 'test');
  await r.models.promoteFrom('iris', 'challenger', 'production', 'test');
  const git = { commit: null, branch: null, dirty: null };
  await r.runs.create(
    { id: 'run1', pipeline: 'p', pipelineFile: 'p.ts', params: { a: 1 }, runDir: path.join(dir, 'runs', 'run1'), pid: process.pid, git },
    [{ name: 'a', kind: 'function', needs: [] }],
  );
  await r.runs.recordMetric('run1', 'a', 'accuracy', 0.9);
  await r.runs.recordArtifact('run1', 'x.json', 'a');
  await r.runs.finish('run1', 'succeeded', null);
  const entry = { runId: 'run1', step: 'a', pipelineFile: 'p.ts', codeHash: 'c', upstreamHash: 'u', params: {}, files: {} };
  await r.stepCache.record({ ...entry, reads: {}, artifacts: {}, value: 'none', outputsHash: 'o', origin: 'run1' });
  const rows = await r.exportRows();
  await r.close();

  const other = tempDataDir();
  const copy = await openRegistry({ dataDir: other });
  await copy.importRows(rows);
  assert.deepEqual(await copy.exportRows(), rows);
  assert.deepEqual(
    (await copy.models.history('iris')).map((h) => [h.id, h.alias, h.toVersion, h.removed ?? false]),
    [
      [1, 'production', 1, false],
      [2, 'challenger', 2, false],
      [3, 'production', 2, false],
      [4, 'challenger', 2, true],
    ],
  );
  const next = await copy.models.setAlias('iris', 'staging', 1, 'test');
  assert.equal(next.id, 5, 'new history ids follow the copied ones');
  await assert.rejects(copy.importRows(rows), /is not empty/);
  await assert.rejects(copy.importRows({ ...rows, schemaVersion: 1 }), /schema version 1/);
  await copy.close();
});

test('MLOPS_DATABASE_URL chooses the backend: sqlite:<file>, postgres:// (PostgreSQL), anything else refused', async () => {
  const dir = tempDataDir();
  const file = path.join(tempDataDir(), 'elsewhere.sqlite');
  const r = await openRegistry({ dataDir: dir, env: { MLOPS_DATABASE_URL: `sqlite:${file}` } });
  assert.equal(r.location, file);
  await r.close();
  assert.ok(fs.existsSync(file));
  await assert.rejects(
    // Port 1 on loopback refuses at once: the PostgreSQL backend was chosen, and its error hides the password.
    openRegistry({ dataDir: dir, env: { MLOPS_DATABASE_URL: 'postgres://mlops:secret@127.0.0.1:1/mlops' } }),
    (err: Error & { code?: string }) =>
      err.code === 'DATABASE_UNREACHABLE' && err.message.includes('postgres://mlops@127.0.0.1:1/mlops') && !err.message.includes('secret'),
  );
  await assert.rejects(
    openRegistry({ dataDir: dir, env: { MLOPS_DATABASE_URL: 'mysql://db/x' } }),
    /MLOPS_DATABASE_URL=mysql:\/\/db\/x: expected/,
  );
});

/** An artifact store that can hold a registration between choosing its number and placing its file. */
class HeldArtifacts extends LocalArtifactStore {
  hold: { reached: () => void; until: Promise<void> } | null = null;

  override async place(staged: StagedArtifact, model: string, version: number): Promise<string> {
    if (this.hold) {
      this.hold.reached();
      await this.hold.until;
    }
    return super.place(staged, model, version);
  }
}

test('a registration holds the connection until its commit: calls meanwhile wait, and never join its transaction', async () => {
  const dir = tempDataDir();
  const artifacts = new HeldArtifacts(dir);
  const r = openSqliteRegistry(dir, artifacts);
  await r.models.register(version(dir));
  let release!: () => void;
  const reached = new Promise<void>((resolve) => {
    artifacts.hold = { reached: resolve, until: new Promise<void>((go) => (release = go)) };
  });
  const registering = r.models.register(version(dir));
  await reached; // inside BEGIN IMMEDIATE, number 2 chosen, file not yet placed
  let moved = false;
  const move = r.models.setAlias('iris', 'production', 1, 'test').then((m) => ((moved = true), m));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(moved, false, 'the alias move waits for the registration to commit');
  release();
  assert.equal((await registering).version, 2);
  assert.equal((await move).toVersion, 1);
  assert.deepEqual(
    (await r.models.versions('iris')).map((v) => v.aliases),
    [['latest'], ['production']],
  );
  await r.close();
});

test('registrations at once on one registry get distinct numbers, alias moves among them included', async () => {
  const dir = tempDataDir();
  const r = await openRegistry({ dataDir: dir });
  await r.models.register(version(dir));
  const [a, b, move, c] = await Promise.all([
    r.models.register(version(dir)),
    r.models.register(version(dir)),
    r.models.setAlias('iris', 'production', 1, 'test'),
    r.models.register(version(dir)),
  ]);
  assert.deepEqual([a.version, b.version, c.version].sort(), [2, 3, 4], 'distinct numbers (in the order their files were staged)');
  assert.equal(move.toVersion, 1);
  assert.equal((await r.models.history('iris')).length, 1);
  await r.close();
});

test('leases: taken when free, refused while another holds one, renewed by their holder, free once released or expired', async () => {
  const r = await openRegistry({ dataDir: tempDataDir() });
  await checkLeases(r);
  await r.close();
});

test('a held lease outlives its time to live by its renewals, and is free once released', async () => {
  const r = await openRegistry({ dataDir: tempDataDir() });
  const held = await HeldLease.take(r.leases, 'job:held', 'me', 2000);
  assert.ok(held, 'taken');
  assert.equal(await HeldLease.take(r.leases, 'job:held', 'other', 2000), null, 'held: refused to another');
  await new Promise((resolve) => setTimeout(resolve, 4500)); // over two lifetimes: live only if renewed
  assert.deepEqual(
    (await r.leases.live('job:held')).map((l) => l.holder),
    ['me'],
  );
  await held.release();
  assert.deepEqual(await r.leases.live('job:held'), []);
  await r.close();
});
