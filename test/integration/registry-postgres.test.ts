import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import pg from 'pg';
import { isMlopsError } from '../../common/errors';
import { openRegistry } from '../../common/registry';
import type { StagedArtifact } from '../../common/registry/artifacts';
import { LocalArtifactStore } from '../../common/registry/local-artifacts';
import { SCHEMA_VERSION, openPostgresRegistry } from '../../common/registry/postgres';
import { PgDb } from '../../common/registry/postgres/db';
import { watchChanges } from '../../common/registry/postgres/watch';
import type { Registry, RegistryCopyApi } from '../../common/registry/store';
import { parseModelRef } from '../../common/model-uri';
import { tempDataDir } from '../helpers/cli';
import { createTestDatabase, needsPostgres, pgProxy } from '../helpers/postgres';
import { checkLeases, checkRunJudgement, newVersion } from '../helpers/registry';

type PgRegistry = Registry & RegistryCopyApi;

const open = (url: string, dataDir: string) => openPostgresRegistry(url, { dataDir, artifacts: new LocalArtifactStore(dataDir), pool: 4 });

// This file is also the child process of the multi-process tests: it registers versions and prints them.
if (process.env.MLOPS_PG_CHILD) {
  void (async () => {
    const dataDir = process.env.MLOPS_PG_CHILD_DIR!;
    const r = await open(process.env.MLOPS_PG_CHILD!, dataDir);
    for (let i = 0; i < Number(process.env.MLOPS_PG_CHILD_COUNT ?? 1); i++) {
      const v = await r.models.register(newVersion(dataDir));
      process.stdout.write(JSON.stringify({ version: v.version, sha256: v.sha256, path: v.path }) + '\n');
    }
    await r.close();
  })().catch((err: unknown) => {
    process.stderr.write(`child failed: ${String(err)}\n`);
    process.exit(1);
  });
} else {
  describe('PostgreSQL registry', { skip: needsPostgres() }, () => {
    /** A fresh database and data folder; everything is dropped and closed after the test. */
    async function fresh(t: TestContext): Promise<{ url: string; adminUrl: string; dir: string; r: PgRegistry; sql: pg.Client }> {
      const db = await createTestDatabase('registry');
      const dir = tempDataDir();
      const r = await open(db.url, dir);
      const sql = new pg.Client({ connectionString: db.url });
      await sql.connect();
      t.after(async () => {
        await sql.end();
        await r.close();
        await db.drop();
      });
      return { url: db.url, adminUrl: db.adminUrl, dir, r, sql };
    }

    function child(url: string, dir: string, count: number, env: NodeJS.ProcessEnv = {}) {
      return spawn(process.execPath, ['--import', 'tsx', __filename], {
        env: { ...process.env, MLOPS_PG_CHILD: url, MLOPS_PG_CHILD_DIR: dir, MLOPS_PG_CHILD_COUNT: String(count), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    }

    async function childOutput(c: ReturnType<typeof child>): Promise<{ version: number; sha256: string; path: string }[]> {
      let out = '';
      let err = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (err += d));
      const code = await new Promise<number | null>((resolve) => c.on('exit', resolve));
      assert.equal(code, 0, `child failed: ${err}`);
      return out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    }

    /** Starts a child that registers one version and waits until it is frozen at `point`; `kill` SIGKILLs it there. */
    async function frozenAt(url: string, dir: string, point: string): Promise<{ kill(): Promise<void> }> {
      const c = child(url, dir, 1, { MLOPS_FAILPOINT: point });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => c.on('exit', (_code, signal) => resolve(signal)));
      await new Promise<void>((resolve, reject) => {
        let err = '';
        c.stderr.on('data', (d) => {
          err += d;
          if (err.includes(`failpoint ${point}`)) resolve();
        });
        c.on('exit', () => reject(new Error(`child exited before reaching ${point}: ${err}`)));
      });
      return {
        async kill() {
          c.kill('SIGKILL');
          assert.equal(await exited, 'SIGKILL');
        },
      };
    }

    const killAt = async (url: string, dir: string, point: string) => (await frozenAt(url, dir, point)).kill();

    const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

    /** The backend pid of the watch()'s listening connection, once there is one (and only one). */
    async function listenerPid(sql: pg.Client): Promise<number> {
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        const { rows } = await sql.query(
          `SELECT pid FROM pg_stat_activity
           WHERE application_name = 'mlops-listener' AND datname = current_database() AND query LIKE 'LISTEN%'`,
        );
        if (rows.length === 1) return rows[0].pid as number;
        await sleep(50);
      }
      throw new Error('no listener connection');
    }

    /**
     * Whether `counter.calls` grows within `ms` of starting `action`. Counted from before the action: the
     * notification may well arrive before the action's own promise resolves.
     */
    async function seenAfter(counter: { calls: number }, ms: number, action: () => Promise<unknown>): Promise<boolean> {
      const before = counter.calls;
      await action();
      const deadline = Date.now() + ms;
      while (Date.now() < deadline && counter.calls === before) await sleep(20);
      return counter.calls > before;
    }

    /** Every committed version has its file, with the recorded sha256. */
    async function assertNoRowWithoutFile(r: PgRegistry, model: string) {
      for (const v of await r.models.versions(model)) {
        assert.ok(fs.existsSync(v.path), `version ${v.version} has its file`);
        assert.equal(sha(v.path), v.sha256, `version ${v.version}'s file has the recorded sha256`);
      }
    }

    test('register, list, versions, resolve, aliases, promoteFrom, removeAlias and history round-trip', async (t) => {
      const { dir, r } = await fresh(t);
      assert.equal(r.backend, 'postgres');
      assert.doesNotMatch(r.location, /:[^/@]*@/, 'no password in the location');
      const v1 = await r.models.register(newVersion(dir));
      const v2 = await r.models.register(newVersion(dir));
      await r.models.register(newVersion(dir, 'wine'));
      assert.deepEqual([v1.version, v2.version], [1, 2]);
      assert.equal(v2.path, path.join(dir, 'models', 'iris', '2', 'model.onnx'));
      assert.equal(sha(v2.path), v2.sha256);
      assert.deepEqual(v2.signature, newVersion(dir).signature, 'JSON columns round-trip');
      assert.deepEqual(fs.readdirSync(path.join(dir, 'models', '.staging')), [], 'staging is cleaned');

      assert.deepEqual(
        (await r.models.list()).map((m) => [m.name, m.versions, m.latest]),
        [
          ['iris', 2, 2],
          ['wine', 1, 1],
        ],
      );
      assert.deepEqual(
        (await r.models.versions('iris')).map((v) => v.aliases),
        [['latest'], []],
      );
      assert.equal((await r.models.resolve(parseModelRef('iris'))).version, 2, 'no production alias: latest');
      await r.models.setAlias('iris', 'production', 1, 'test');
      assert.equal((await r.models.resolve(parseModelRef('iris'))).version, 1, 'production when it exists');
      await r.models.setAlias('iris', 'challenger', 2, 'test');
      assert.equal((await r.models.resolve(parseModelRef('iris@challenger'))).version, 2);
      assert.equal((await r.models.resolve(parseModelRef('iris/1'))).version, 1);
      assert.equal((await r.models.resolve(parseModelRef('iris@latest'))).version, 2);
      await assert.rejects(r.models.resolve(parseModelRef('iris@canary')), /alias 'canary' of model 'iris' not found/);
      await assert.rejects(r.models.setAlias('iris', 'production', 7, 'test'), /model 'iris' version 7 not found/);
      await assert.rejects(r.models.versions('nope'), /model 'nope' not found/);

      const moves = await r.models.promoteFrom('iris', 'challenger', 'production', 'ci');
      assert.deepEqual(
        moves.map((m) => [m.alias, m.fromVersion, m.toVersion, m.removed ?? false]),
        [
          ['production', 1, 2, false],
          ['challenger', 2, 2, true],
        ],
      );
      assert.deepEqual((await r.models.list())[0].aliases, { production: 2 });
      await assert.rejects(r.models.promoteFrom('iris', 'challenger', 'production', 'ci'), /has no challenger alias/);
      await assert.rejects(r.models.promoteFrom('nope', 'challenger', 'production', 'ci'), /model 'nope' not found/);
      await r.models.setAlias('iris', 'staging', 1, 'test');
      assert.equal((await r.models.removeAlias('iris', 'staging', 'test'))?.removed, true);
      assert.equal(await r.models.removeAlias('iris', 'staging', 'test'), null, 'not set: null');
      const history = await r.models.history('iris');
      assert.deepEqual(
        history.map((h) => [h.alias, h.fromVersion, h.toVersion, h.by, h.removed ?? false]),
        [
          ['production', null, 1, 'test', false],
          ['challenger', null, 2, 'test', false],
          ['production', 1, 2, 'ci', false],
          ['challenger', 2, 2, 'ci', true],
          ['staging', null, 1, 'test', false],
          ['staging', 1, 1, 'test', true],
        ],
      );
      assert.deepEqual(
        history.map((h) => h.id),
        [1, 2, 3, 4, 5, 6],
      );
      const snap = await r.models.snapshot();
      assert.deepEqual(
        snap.map((s) => [s.model.name, s.versions.map((v) => v.version)]),
        [
          ['iris', [2, 1]],
          ['wine', [1]],
        ],
      );
    });

    test('the database refuses an UPDATE of a version and an UPDATE or DELETE of the alias history', async (t) => {
      const { dir, r, sql } = await fresh(t);
      await r.models.register(newVersion(dir));
      await r.models.setAlias('iris', 'production', 1, 'test');
      await assert.rejects(sql.query(`UPDATE model_versions SET sha256 = 'x'`), /model versions are immutable/);
      await assert.rejects(sql.query(`TRUNCATE model_versions CASCADE`), /model versions are immutable/);
      await assert.rejects(sql.query(`UPDATE alias_history SET to_version = 9`), /alias history is append-only/);
      await assert.rejects(sql.query(`DELETE FROM alias_history`), /alias history is append-only/);
      assert.equal((await r.models.history('iris')).length, 1);
      assert.equal((await r.models.version('iris', 1)).sha256.length, 64);
    });

    test('runs and the step cache round-trip', async (t) => {
      const { dir, r } = await fresh(t);
      const git = { commit: 'abc', branch: 'main', dirty: false };
      const runDir = r.runDir('run-1');
      await r.runs.create({ id: 'run-1', pipeline: 'iris', pipelineFile: '/p.ts', params: { a: 1 }, runDir, pid: process.pid, git }, [
        { name: 'load', kind: 'function', needs: [] },
      ]);
      await r.runs.addSteps('run-1', [
        { name: 'load', kind: 'function', needs: [] },
        { name: 'train', kind: 'command', needs: ['load'] },
      ]);
      await r.runs.setPipeline('run-1', 'iris-2', { a: 2 });
      await r.runs.stepStarted('run-1', 'load');
      await r.runs.stepFinished('run-1', 'load', 'succeeded', 12.5, undefined, { notebook: 'nb.ipynb' });
      await r.runs.stepStarted('run-1', 'train');
      await r.runs.recordMetric('run-1', 'train', 'accuracy', 0.5);
      await r.runs.recordMetric('run-1', 'train', 'accuracy', 0.9);
      await r.runs.recordArtifact('run-1', 'model.onnx', 'train');
      await r.runs.recordArtifact('run-1', 'model.onnx', 'train');
      await r.runs.finish('run-1', 'succeeded', null, { model: 'iris', version: 1 });
      const run = await r.runs.get('run-1');
      assert.equal(run.pipeline, 'iris-2');
      assert.deepEqual(run.params, { a: 2 });
      assert.equal(run.runDir, path.join(dir, 'runs', 'run-1'));
      assert.deepEqual(run.git, git);
      assert.equal(run.status, 'succeeded');
      assert.equal(run.trigger, 'manual');
      assert.deepEqual(run.registered, { model: 'iris', version: 1 });
      assert.deepEqual(run.metrics, { accuracy: 0.9 });
      assert.deepEqual(run.artifacts, ['model.onnx']);
      assert.deepEqual(
        run.steps.map((s) => [s.name, s.index, s.status, s.kind, s.needs, s.artifacts, s.notebook, s.durationMs]),
        [
          ['load', 0, 'succeeded', 'function', [], [], 'nb.ipynb', 12.5],
          ['train', 1, 'failed', 'command', ['load'], ['model.onnx'], null, null],
        ],
      );
      assert.equal(run.steps[0].logFile, path.join(dir, 'runs', 'run-1', 'logs', 'load.log'));
      await assert.rejects(r.runs.get('run-2'), /run 'run-2' not found/);

      await r.runs.create(
        { id: 'run-2', pipeline: 'iris', pipelineFile: '/p.ts', params: {}, runDir: r.runDir('run-2'), pid: 1, git, trigger: 'retrain' },
        [],
      );
      assert.deepEqual(
        (await r.runs.list()).map((x) => [x.id, x.trigger]),
        [
          ['run-2', 'retrain'],
          ['run-1', 'manual'],
        ],
      );
      assert.deepEqual(await r.runs.recoverInterrupted(() => false), ['run-2']);
      assert.match((await r.runs.get('run-2')).error ?? '', /runner process 1 ended without finishing the run/);

      const entry = {
        runId: 'run-1',
        step: 'train',
        pipelineFile: '/p.ts',
        codeHash: 'c',
        upstreamHash: 'u',
        params: { a: 2 },
        files: { '/d.csv': 'f' },
        reads: {},
        artifacts: { 'model.onnx': 's' },
        value: 'none' as const,
        outputsHash: 'o',
        origin: 'run-1',
      };
      await r.stepCache.record({ ...entry, outputsHash: 'old' });
      await r.stepCache.record(entry); // replaces
      assert.deepEqual(await r.stepCache.candidates('/p.ts', 'train', 'c', 'u'), [{ ...entry, runDir: path.join(dir, 'runs', 'run-1') }]);
      assert.deepEqual(await r.stepCache.candidates('/p.ts', 'train', 'other', 'u'), []);
      assert.deepEqual(await r.stepCache.results('run-1', 'train'), { metrics: [{ name: 'accuracy', value: 0.9 }], notebook: null });
      assert.deepEqual(await r.stepCache.results('run-1', 'load'), { metrics: [], notebook: 'nb.ipynb' });
    });

    test("a replica judges its host's runs by pid, another host's by the runner's lease (live: running; lapsed: failed)", async (t) => {
      const { url, dir, r, sql } = await fresh(t);
      await checkRunJudgement(
        r,
        () => openRegistry({ dataDir: dir, env: { MLOPS_DATABASE_URL: url } }),
        (statement) => sql.query(statement),
      );
    });

    test('leases: the same semantics as SQLite; of twenty takers at once on separate connections, one wins', async (t) => {
      const { url, dir, r } = await fresh(t);
      await checkLeases(r);
      const others = await Promise.all([1, 2, 3, 4].map(() => open(url, dir)));
      t.after(() => Promise.all(others.map((o) => o.close())));
      const won = await Promise.all(Array.from({ length: 20 }, (_, i) => others[i % 4].leases.acquire('race', `taker-${i}`, 60_000)));
      assert.equal(won.filter(Boolean).length, 1, JSON.stringify(won));
      const [{ holder }] = await r.leases.live('race');
      assert.equal(won[Number(holder.slice('taker-'.length))], true, "the live lease is the winner's");
    });

    test('two processes registering the same model at once get distinct versions, each with its file', async (t) => {
      const { url, dir, r } = await fresh(t);
      const [a, b] = await Promise.all([childOutput(child(url, dir, 5)), childOutput(child(url, dir, 5))]);
      assert.deepEqual(
        [...a, ...b].map((v) => v.version).sort((x, y) => x - y),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
      assert.equal((await r.models.versions('iris')).length, 10);
      await assertNoRowWithoutFile(r, 'iris');
      for (const v of [...a, ...b]) assert.equal(sha(v.path), v.sha256, `the child's version ${v.version} is its own file`);
    });

    test('a crash between placing the file and committing leaves no row; the next registration gets a valid number', async (t) => {
      const { url, dir, r } = await fresh(t);
      await r.models.register(newVersion(dir));
      await killAt(url, dir, 'registry.after-move');
      assert.ok(fs.existsSync(path.join(dir, 'models', 'iris', '2', 'model.onnx')), 'the killed child had placed version 2');
      assert.deepEqual(
        (await r.models.versions('iris')).map((v) => v.version),
        [1],
        'no row for it',
      );
      const next = await r.models.register(newVersion(dir));
      assert.equal(next.version, 2, 'its number is reused, its folder replaced');
      await assertNoRowWithoutFile(r, 'iris');

      await killAt(url, dir, 'registry.after-move');
      assert.ok(fs.existsSync(path.join(dir, 'models', 'iris', '3')));
      assert.deepEqual(await r.models.sweepOrphans(), [path.join('iris', '3')]);
      assert.ok(!fs.existsSync(path.join(dir, 'models', 'iris', '3')), 'the orphan folder is swept');
      await assertNoRowWithoutFile(r, 'iris');
      assert.equal((await r.models.register(newVersion(dir))).version, 3);
    });

    test("a registration whose insert fails discards the file it placed, and keeps a committed version's", async (t) => {
      const { dir, r, sql } = await fresh(t);
      await r.models.register(newVersion(dir));
      await sql.query(`CREATE FUNCTION refuse_two() RETURNS trigger LANGUAGE plpgsql AS $$
                       BEGIN IF NEW.version = 2 THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$;
                       CREATE TRIGGER refuse_two BEFORE INSERT ON model_versions FOR EACH ROW EXECUTE FUNCTION refuse_two()`);
      await assert.rejects(r.models.register(newVersion(dir)), /refused by the test/);
      assert.ok(!fs.existsSync(path.join(dir, 'models', 'iris', '2')), 'the placed folder is gone');
      assert.deepEqual(fs.readdirSync(path.join(dir, 'models', '.staging')), []);
      assert.deepEqual(
        (await r.models.versions('iris')).map((v) => v.version),
        [1],
      );
      await assertNoRowWithoutFile(r, 'iris');
    });

    test('the orphan sweep leaves alone a registration between its place and its commit, without waiting for it', async (t) => {
      const { url, dir, r } = await fresh(t);
      await r.models.register(newVersion(dir));
      const frozen = await frozenAt(url, dir, 'registry.after-move');
      const folder = path.join(dir, 'models', 'iris', '2');
      assert.ok(fs.existsSync(folder), 'placed, not committed');
      assert.deepEqual(await r.models.sweepOrphans(), [], 'the model lock is held: its folders are not judged');
      assert.ok(fs.existsSync(folder), 'the folder of a registration in progress is left alone');
      await frozen.kill(); // its transaction rolls back: now the folder is an orphan
      assert.deepEqual(await r.models.sweepOrphans(), [path.join('iris', '2')]);
      assert.ok(!fs.existsSync(folder));
      await assertNoRowWithoutFile(r, 'iris');
    });

    test('four registries opening a fresh database at once migrate it once, and all open', async (t) => {
      const db = await createTestDatabase('migrate');
      t.after(() => db.drop());
      const dir = tempDataDir();
      const registries = await Promise.all([1, 2, 3, 4].map(() => open(db.url, dir)));
      try {
        for (const r of registries) assert.deepEqual(await r.schema(), { version: SCHEMA_VERSION, expected: SCHEMA_VERSION });
        const sql = new pg.Client({ connectionString: db.url });
        await sql.connect();
        const { rows } = await sql.query(`SELECT version FROM registry_schema_version ORDER BY version`);
        await sql.end();
        assert.deepEqual(
          rows.map((x) => x.version),
          Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
          'each version once',
        );
      } finally {
        await Promise.all(registries.map((r) => r.close()));
      }
    });

    test('a database at a newer schema than the code is refused with a clear error', async (t) => {
      const { url, dir, sql } = await fresh(t);
      await sql.query(`INSERT INTO registry_schema_version (version, applied_at, applied_by) VALUES ($1, 'now', 'the future')`, [
        SCHEMA_VERSION + 1,
      ]);
      await assert.rejects(open(url, dir), (err: unknown) => {
        assert.ok(isMlopsError(err));
        assert.equal(err.code, 'REGISTRY_SCHEMA');
        assert.ok(
          err.message.includes(`is at schema version ${SCHEMA_VERSION + 1}, newer than this mlops understands (${SCHEMA_VERSION})`),
          err.message,
        );
        assert.doesNotMatch(err.message, /mlops_test:[^@]/, 'no password');
        return true;
      });
    });

    test('an unreachable database is a catalogue error naming the URL without its password', async () => {
      await assert.rejects(open('postgres://someone:hunter2@127.0.0.1:1/nothing', tempDataDir()), (err: unknown) => {
        assert.ok(isMlopsError(err));
        assert.equal(err.code, 'DATABASE_UNREACHABLE');
        assert.equal(err.status, 503);
        assert.match(err.message, /cannot reach the database postgres:\/\/someone@127\.0\.0\.1:1\/nothing: .*ECONNREFUSED/);
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      });
    });

    test('a wrong password is the same catalogue error, without the password', async (t) => {
      const db = await createTestDatabase('password');
      t.after(() => db.drop());
      const wrong = new URL(db.url);
      wrong.password = 'not-the-password';
      await assert.rejects(open(wrong.toString(), tempDataDir()), (err: unknown) => {
        assert.ok(isMlopsError(err));
        assert.equal(err.code, 'DATABASE_UNREACHABLE');
        assert.match(err.message, /password authentication failed/);
        assert.doesNotMatch(err.message, /not-the-password/);
        return true;
      });
    });

    test('watch(): a change committed elsewhere is seen within 2 s, also after the listening connection is killed', async (t) => {
      const { url, dir, r, sql } = await fresh(t);
      const other = await open(url, dir);
      t.after(() => other.close());
      await other.models.register(newVersion(dir));
      const counter = { calls: 0 };
      // A poll this slow cannot pass the first check: only the notification can.
      const stop = r.watch(() => counter.calls++, 60_000);
      t.after(stop);
      const listening = () => listenerPid(sql);
      await listening();
      assert.ok(await seenAfter(counter, 2000, () => other.models.setAlias('iris', 'production', 1, 'test')), 'an alias move is notified');

      const pid = await listening();
      const { rows } = await sql.query(`SELECT pg_terminate_backend($1) AS ok`, [pid]);
      assert.equal(rows[0].ok, true);
      // Only the first check is the 2 s target; these give a loaded CI machine room (reconnect backoff, scheduling).
      assert.ok(
        await seenAfter(counter, 5000, () => other.models.register(newVersion(dir))),
        'a change made while the listener was down is still reported',
      );
      const newPid = await listening();
      assert.notEqual(newPid, pid, 'the listener reconnected');
      const runRecord = () =>
        other.runs.create(
          {
            id: 'run-9',
            pipeline: 'p',
            pipelineFile: '/p.ts',
            params: {},
            runDir: other.runDir('run-9'),
            pid: 1,
            git: { commit: null, branch: null, dirty: null },
          },
          [],
        );
      assert.ok(await seenAfter(counter, 5000, runRecord), 'a run record is notified through the new connection');
    });

    test('watch(): while the listener cannot reconnect, the poll reports changes; it listens again once it can', async (t) => {
      const { url, adminUrl, r, sql } = await fresh(t);
      const db = new URL(url).pathname.slice(1);
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      t.after(() => admin.end());
      const counter = { calls: 0 };
      const stop = r.watch(() => counter.calls++, 200);
      t.after(stop);
      const pid = await listenerPid(sql);
      await r.ping(); // the pool keeps this connection: the poll reads through it
      // New connections are refused (superusers included); the ones already open keep working.
      await admin.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS false`);
      t.after(() => admin.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS true`).catch(() => {}));
      await sql.query(`SELECT pg_terminate_backend($1)`, [pid]);
      await sleep(300);
      const byHand = () =>
        sql.query(`INSERT INTO runs (id, pipeline, pipeline_file, params, status, run_dir, git, created_at)
                   VALUES ('by-hand', 'p', '/p.ts', '{}', 'running', 'runs/by-hand', '{}', 'now')`);
      assert.ok(await seenAfter(counter, 2000, byHand), 'the poll saw the change');
      const { rows } = await sql.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'mlops-listener'`);
      assert.equal(rows[0].n, 0, 'no listener could connect: it was the poll');
      await admin.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS true`);
      assert.notEqual(await listenerPid(sql), pid, 'the listener is back');
    });

    test('watch(): a listening connection that goes silent (a partition: no FIN) is replaced', async (t) => {
      const { url, sql } = await fresh(t);
      const proxy = await pgProxy(new URL(url));
      t.after(() => proxy.close());
      const db = new PgDb(proxy.url, 'test', 2);
      t.after(() => db.end());
      const counter = { calls: 0 };
      const stop = watchChanges(db, () => counter.calls++, 60_000, { everyMs: 300, timeoutMs: 300 });
      t.after(stop);
      const pid = await listenerPid(sql);
      assert.equal(proxy.freeze('mlops-listener'), 1, 'the listening connection is silenced');
      const byHand = () =>
        sql.query(`INSERT INTO runs (id, pipeline, pipeline_file, params, status, run_dir, git, created_at)
                   VALUES ('by-hand', 'p', '/p.ts', '{}', 'running', 'runs/by-hand', '{}', 'now')`);
      // With a 60 s poll, only a new listener (and its check of the counter) can report it in time.
      assert.ok(await seenAfter(counter, 5000, byHand), 'the change is seen though the first listener hangs');
      const { rows } = await sql.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE application_name = 'mlops-listener' AND query LIKE 'LISTEN%' AND pid <> $1 AND datname = current_database()`,
        [pid],
      );
      assert.equal(rows[0].n, 1, 'a new listening connection replaced the silent one');
    });

    test('an idle pool connection killed by the server does not crash the process; the next query reconnects', async (t) => {
      const { dir, r, sql } = await fresh(t);
      await r.models.register(newVersion(dir));
      const { rows } = await sql.query(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
         WHERE application_name = 'mlops' AND datname = current_database() AND pid <> pg_backend_pid()`,
      );
      assert.ok(rows[0].n >= 1, 'pool connections were killed');
      await sleep(200); // their 'error' events arrive while idle
      assert.equal((await r.models.list()).length, 1);
    });

    test('a connection killed inside a transaction, between two queries, does not crash the process: the call fails clearly', async (t) => {
      const { url, dir, sql } = await fresh(t);
      // A registration waits in place() with its transaction open: the client is checked out, no query in flight.
      let reached!: () => void;
      const inPlace = new Promise<void>((res) => (reached = res));
      let release!: () => void;
      const until = new Promise<void>((res) => (release = res));
      class HeldArtifacts extends LocalArtifactStore {
        override async place(staged: StagedArtifact, model: string, version: number): Promise<string> {
          reached();
          await until;
          return super.place(staged, model, version);
        }
      }
      const held = await openPostgresRegistry(url, { dataDir: dir, artifacts: new HeldArtifacts(dir), pool: 2 });
      t.after(() => held.close());
      const registering = held.models.register(newVersion(dir));
      await inPlace;
      const { rows } = await sql.query(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
         WHERE application_name = 'mlops' AND state = 'idle in transaction' AND datname = current_database()`,
      );
      assert.equal(rows[0].n, 1, "the registration's connection was killed");
      await sleep(200); // its 'error' event arrives while the client is checked out
      release();
      await assert.rejects(registering, (err: unknown) => isMlopsError(err) && err.code === 'DATABASE_UNREACHABLE');
      assert.deepEqual(await held.models.list(), [], 'nothing was registered');
    });

    test('ping answers, and close is idempotent', async (t) => {
      const { r } = await fresh(t);
      await r.ping(2000);
      assert.deepEqual(await r.schema(), { version: SCHEMA_VERSION, expected: SCHEMA_VERSION });
      await r.close();
      await r.close();
      await assert.rejects(r.ping(2000));
    });

    test('export, then import into a fresh database, gives the same registry; a non-empty one is refused', async (t) => {
      const { dir, r } = await fresh(t);
      await r.models.register(newVersion(dir));
      await r.models.register(newVersion(dir));
      await r.models.register(newVersion(dir, 'wine'));
      await r.models.setAlias('iris', 'production', 1, 'a');
      await r.models.setAlias('iris', 'challenger', 2, 'b');
      await r.models.promoteFrom('iris', 'challenger', 'production', 'c');
      const git = { commit: null, branch: null, dirty: null };
      await r.runs.create({ id: 'run-1', pipeline: 'p', pipelineFile: '/p.ts', params: {}, runDir: r.runDir('run-1'), pid: 1, git }, [
        { name: 's', kind: 'function', needs: [] },
      ]);
      await r.runs.recordMetric('run-1', 's', 'm', 1);
      await r.runs.finish('run-1', 'succeeded', null);
      const rows = await r.exportRows();
      assert.equal(rows.schemaVersion, SCHEMA_VERSION);
      assert.equal(rows.tables.alias_history.length, 4);

      const target = await createTestDatabase('copy');
      t.after(() => target.drop());
      const copy = await open(target.url, dir);
      t.after(() => copy.close());
      await copy.importRows(rows);
      assert.deepEqual(await copy.models.list(), await r.models.list());
      assert.deepEqual(await copy.models.history('iris'), await r.models.history('iris'));
      assert.deepEqual(await copy.models.snapshot(), await r.models.snapshot());
      assert.deepEqual(await copy.runs.list(), await r.runs.list());
      assert.deepEqual(await copy.exportRows(), rows);
      assert.equal((await copy.models.setAlias('wine', 'production', 1, 'd')).id, 5, 'the history sequence continues after the copied ids');
      await assert.rejects(copy.importRows(rows), /cannot copy into .*: it already holds rows \(table models\)/);
      await assert.rejects(copy.importRows({ ...rows, schemaVersion: 4 }), /rows of schema version 4/);
    });
  });
}
