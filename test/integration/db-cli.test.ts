// `mlops db status|migrate|copy`: a local SQLite registry moved into a real PostgreSQL one, then used
// from there (the CLI lists it, a server serves it).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ModelSummary } from '../../common/contract';
import { json, mlops, mlopsAsync, tempDataDir } from '../helpers/cli';
import { freePort } from '../helpers/net';
import { createTestDatabase, needsPostgres, type TestDatabase } from '../helpers/postgres';
import { trainIris } from '../helpers/server';

describe('mlops db', { skip: needsPostgres() }, () => {
  let local: string;
  let db: TestDatabase;
  const dbs: TestDatabase[] = [];
  before(async () => {
    local = tempDataDir('mlops-db-local-');
    trainIris(local, ['trainer=logistic_regression'], ['trainer=logistic_regression', 'seed=7']);
    mlops(local, ['models', 'promote', 'iris', '1']);
    db = await createTestDatabase('dbcli');
    dbs.push(db);
  });
  after(async () => {
    for (const d of dbs) await d.drop();
  });

  test('status on the default SQLite registry names the file and the schema', () => {
    const r = mlops(local, ['db', 'status', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = json<{ backend: string; location: string; schema: { version: number; expected: number }; models: number; versions: number }>(
      r,
    );
    assert.equal(s.backend, 'sqlite');
    assert.ok(s.location.startsWith(local), s.location);
    assert.equal(s.schema.version, s.schema.expected);
    assert.deepEqual([s.models, s.versions], [1, 2]);
  });

  test('copy moves rows and model files into PostgreSQL; the CLI and a server use them there', async () => {
    const shared = tempDataDir('mlops-db-artifacts-');
    const here = tempDataDir('mlops-db-replica-');
    const r = mlops(here, ['db', 'copy', '--from', `sqlite:${local}`, '--to', db.url, '--to-artifacts', shared]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /2 model files/);
    assert.ok(!r.stdout.includes(new URL(db.url).password), 'the password is never printed');
    const env = { MLOPS_DATABASE_URL: db.url, MLOPS_ARTIFACT_DIR: shared };
    for (const v of [1, 2]) assert.ok(fs.existsSync(path.join(shared, 'models', 'iris', String(v), 'model.onnx')));
    const status = json<{ backend: string; versions: number; schema: { version: number; expected: number } }>(
      mlops(here, ['db', 'status', '--json'], env),
    );
    assert.equal(status.backend, 'postgres');
    assert.equal(status.versions, 2);
    assert.equal(status.schema.version, status.schema.expected);
    const models = json<ModelSummary[]>(mlops(here, ['models', 'list', '--json'], env));
    assert.deepEqual(
      models.map((m) => [m.name, m.versions, m.aliases]),
      [['iris', 2, { production: 1 }]],
    );
    const history = mlops(here, ['models', 'history', 'iris', '--json'], env);
    assert.equal(history.code, 0, history.stderr);
    assert.equal(json<unknown[]>(history).length, 1);

    // A server on another data folder serves the copied production version from PostgreSQL.
    const port = await freePort();
    const server = mlopsAsync(tempDataDir('mlops-db-server-'), ['serve', '--port', String(port)], env);
    try {
      let ready: { ready?: boolean; model?: string; version?: number } = {};
      for (let i = 0; i < 100 && !ready.ready; i++) {
        await new Promise((r) => setTimeout(r, 200));
        ready = (await fetch(`http://127.0.0.1:${port}/readyz`)
          .then((r) => r.json())
          .catch(() => ({}))) as typeof ready;
      }
      assert.deepEqual([ready.ready, ready.model, ready.version], [true, 'iris', 1], server.stderr());
    } finally {
      server.child.kill('SIGTERM');
      await server.done;
    }

    // Into a registry that is not empty: refused, nothing changed.
    const again = mlops(here, ['db', 'copy', '--from', `sqlite:${local}`, '--to', db.url, '--to-artifacts', shared]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already holds rows \(table models\)/);
    assert.doesNotMatch(again.stderr, /model files/, 'refused before any file is placed');
    assert.equal(json<ModelSummary[]>(mlops(here, ['models', 'list', '--json'], env))[0].versions, 2);
  });

  test('a model file changed on disk is refused by the copy, which leaves the target empty', async () => {
    const broken = tempDataDir('mlops-db-broken-');
    fs.cpSync(local, broken, { recursive: true });
    const file = path.join(broken, 'models', 'iris', '2', 'model.onnx');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const target = await createTestDatabase('dbcli_broken');
    dbs.push(target);
    const r = mlops(broken, ['db', 'copy', '--from', `sqlite:${broken}`, '--to', target.url, '--to-artifacts', tempDataDir()]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /iris v2: .*model\.onnx has sha256 .*not copied/);
    const status = json<{ versions: number }>(mlops(broken, ['db', 'status', '--json'], { MLOPS_DATABASE_URL: target.url }));
    assert.equal(status.versions, 0);
  });

  test('a bad --to is a usage error naming the forms', () => {
    const r = mlops(local, ['db', 'copy', '--from', `sqlite:${local}`, '--to', 'mysql://x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /sqlite:<data folder> or postgres:\/\//);
  });
});
