// copyPredictionLog (mlops db copy): a real SQLite log filled through PredictionLog, copied into a real
// PostgreSQL (test/helpers/postgres.ts: a fresh database per test), then read back through the
// PostgreSQL export and store: the same export bytes, labelled export and live quality; a second copy
// refused; a failing copy leaving nothing; nothing to copy; a file of an older schema.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { LiveQuality } from '../../common/contract';
import { PredictionLog, PREDICTIONS_DB_FILE, type FeedbackBatch, type PredictionBatch } from '../../server/prediction-log';
import { copyPredictionLog } from '../../server/prediction-log/copy';
import { exportLabelled, exportPredictionLog, labelledModels } from '../../server/prediction-log/export';
import { PostgresLogStore } from '../../server/prediction-log/postgres';
import { MIGRATIONS } from '../../server/prediction-log/protocol';
import { SqliteLogStore } from '../../server/prediction-log/store';
import { needsPostgres } from '../helpers/postgres';
import { collect, request as logRequest, T0 } from '../helpers/prediction-log';
import { pgLogFixtures, sql } from '../helpers/prediction-log-postgres';

const skip = needsPostgres();
const WINDOW = 500;

const { tempDir, database } = pgLogFixtures('plogcopy');

/** Everything the PostgreSQL log holds, for "changed nothing" comparisons. */
async function dumpPg(url: string): Promise<unknown[]> {
  return [
    await sql(url, 'SELECT * FROM predictions ORDER BY id'),
    await sql(url, 'SELECT * FROM feedback ORDER BY id'),
    await sql(url, 'SELECT * FROM prediction_input_fields ORDER BY position'),
  ];
}

/** The shared request with labels A, B, A, … (the copy test's labelled rows join on them). */
function request(i: number, n = 2, extra: Partial<PredictionBatch> = {}): PredictionBatch {
  return logRequest(i, n, { labels: Array.from({ length: n }, (_, r) => (r % 2 ? 'B' : 'A')), ...extra });
}

/** Typed inputs (a string with COPY's special characters, a boolean, an integer, a float32) and regression values. */
function typedRequest(i: number): PredictionBatch {
  return {
    at: T0 + 500 + i,
    requestId: `typed-${i}`,
    model: 'houses',
    version: 1,
    features: ['city', 'garden', 'rooms', 'area'],
    kinds: 'sbdf',
    rows: Float64Array.from([NaN, 1, 3, 72.5, NaN, 0, 4, 80.25]),
    strings: ['=cmd|calc', '', '', '', 'pa\\ris\t\n\r"x" \\N', '', '', ''],
    n: 2,
    labels: null,
    probabilities: null,
    nClasses: 0,
    values: Float32Array.from([151.2, 99]),
    nTargets: 1,
    latencyMs: 1,
  };
}

/** Labels (a string) or regression values (a number) for (request id, row) keys. */
function feedback(predictionAt: number, ...entries: [string, number, string | number][]): FeedbackBatch {
  return {
    requestIds: entries.map((e) => e[0]),
    rows: Int32Array.from(entries.map((e) => e[1])),
    index: Int32Array.from(entries.map((_, i) => i)),
    labels: entries.map((e) => (typeof e[2] === 'string' ? e[2] : null)),
    values: Float64Array.from(entries.map((e) => (typeof e[2] === 'number' ? e[2] : 0))),
    predictionAt: Float64Array.from(entries.map(() => predictionAt)),
  };
}

/** The SQLite log of `dir` and the PostgreSQL one export the same bytes, labelled rows and models. */
async function assertSameExports(dir: string, url: string, models: { model: string; features: string[] }[]): Promise<void> {
  for (const format of ['csv', 'jsonl'] as const) {
    for (const since of [undefined, T0 + 2000]) {
      const fromPg = collect();
      const fromSqlite = collect();
      const n = await exportPredictionLog(dir, format, fromPg.out, { since, databaseUrl: url });
      assert.equal(await exportPredictionLog(dir, format, fromSqlite.out, { since, databaseUrl: '' }), n);
      assert.ok(n > 0);
      assert.equal(fromPg.text(), fromSqlite.text(), `${format} since ${since}: byte for byte`);
    }
  }
  assert.deepEqual(await labelledModels(dir, { databaseUrl: url }), await labelledModels(dir, { databaseUrl: '' }));
  for (const { model, features } of models) {
    const fromPg = collect();
    const fromSqlite = collect();
    const spec = { model, features, target: 'y' };
    const n = await exportLabelled(dir, spec, fromPg.out, { databaseUrl: url });
    assert.equal(await exportLabelled(dir, spec, fromSqlite.out, { databaseUrl: '' }), n);
    assert.ok(n > 0, `${model} has labelled rows`);
    assert.equal(fromPg.text(), fromSqlite.text(), `${model}: the labelled export`);
  }
}

const byVersion = (qs: LiveQuality[]) => [...qs].sort((a, b) => a.model.localeCompare(b.model) || a.version - b.version);

/** Live quality of every labelled version, from each store. */
async function qualities(dir: string, url: string): Promise<{ sqlite: LiveQuality[]; pg: LiveQuality[] }> {
  const sqliteStore = new SqliteLogStore(path.join(dir, PREDICTIONS_DB_FILE), WINDOW);
  const pgStore = new PostgresLogStore(url, 'test', WINDOW);
  try {
    return { sqlite: byVersion(sqliteStore.qualityOfAll()), pg: byVersion(await pgStore.qualityOfAll()) };
  } finally {
    sqliteStore.close();
    await pgStore.close();
  }
}

test(
  'a SQLite log with labels copies into PostgreSQL: same exports, labelled exports and live quality; a second copy is refused',
  { skip },
  async () => {
    const db = await database();
    const dir = tempDir();
    const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000 });
    const at = Date.now() - 60_000;
    try {
      for (let i = 1; i <= 4; i++) log.record(request(i, i));
      // A challenger's shadow answers to the same requests: labels join them too, the labelled export does not.
      for (let i = 1; i <= 2; i++) log.record({ ...request(i, i), version: 4, labels: Array(i).fill('B'), shadow: true });
      log.record(typedRequest(1));
      log.record({ ...request(9, 1), features: ['a', 'b', 'z'], requestId: 'late-field' });
      log.record({ ...request(10, 2), at, requestId: 'recent' });
      assert.equal(await log.flush(), 18);
      const stored = await log.storeFeedback(
        at + 5000,
        feedback(T0, ['req-2', 0, 'A'], ['req-2', 1, 'A'], ['req-4', 3, 'B'], ['typed-1', 0, 150], ['typed-1', 1, 101.5]),
      );
      assert.equal(stored.accepted.length, 5);
      assert.equal((await log.storeFeedback(at + 9000, feedback(at, ['recent', 1, 'B']))).accepted.length, 1);
    } finally {
      await log.close();
    }

    const progress: [number, number][] = [];
    const copied = await copyPredictionLog(dir, db.url, { replica: 'laptop', progress: (done, total) => progress.push([done, total]) });
    assert.deepEqual(copied, { predictions: 18, feedback: 6, fields: 8 });
    assert.deepEqual(progress.at(-1), [24, 24]);

    assert.deepEqual(
      await sql(db.url, 'SELECT DISTINCT replica FROM predictions'),
      [{ replica: 'laptop' }],
      'the replica named by the options',
    );
    assert.deepEqual(
      await sql(db.url, 'SELECT request_id, row_index, version, shadow FROM predictions WHERE shadow = 1 ORDER BY id'),
      [
        { request_id: 'req-1', row_index: 0, version: 4, shadow: 1 },
        { request_id: 'req-2', row_index: 0, version: 4, shadow: 1 },
        { request_id: 'req-2', row_index: 1, version: 4, shadow: 1 },
      ],
      'shadow flags kept',
    );
    const sqliteFeedback = new Database(path.join(dir, PREDICTIONS_DB_FILE), { readonly: true });
    try {
      assert.deepEqual(
        await sql(
          db.url,
          'SELECT at::float8, request_id, row_index, actual_label, actual_value, prediction_at::float8 FROM feedback ORDER BY id',
        ),
        sqliteFeedback
          .prepare('SELECT at, request_id, row_index, actual_label, actual_value, prediction_at FROM feedback ORDER BY id')
          .all(),
        'labels, values and times as stored, in label order',
      );
    } finally {
      sqliteFeedback.close();
    }
    await assertSameExports(dir, db.url, [
      { model: 'iris', features: ['a', 'c'] },
      { model: 'houses', features: ['city', 'garden', 'area'] },
    ]);
    const q = await qualities(dir, db.url);
    assert.deepEqual(
      q.pg.map((x) => [x.model, x.version, x.labelled]),
      [
        ['houses', 1, 2],
        ['iris', 3, 4],
        ['iris', 4, 2],
      ],
    );
    assert.deepEqual(q.pg, q.sqlite, 'live quality the same');

    const before = await dumpPg(db.url);
    await assert.rejects(copyPredictionLog(dir, db.url, { replica: 'laptop' }), (err: Error & { code?: string; status?: number }) => {
      assert.equal(err.code, 'PREDICTION_LOG_NOT_EMPTY');
      assert.equal(err.status, 409);
      assert.match(err.message, /already holds 18 predictions and 6 feedback labels: nothing was copied.*duplicate/);
      assert.equal(err.message.includes(new URL(db.url).password), false, 'no password');
      return true;
    });
    assert.deepEqual(await dumpPg(db.url), before, 'the refused copy changed nothing');
  },
);

test('more rows than a page: every prediction and label, in order, under the default replica name', { skip }, async () => {
  const db = await database();
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000 });
  try {
    for (let i = 1; i <= 1250; i++) log.record({ ...request(i, 2), at: T0 + Math.floor(i / 3) * 1000 }); // ties in time
    assert.equal(await log.flush(), 2500);
    const entries: [string, number, string][] = [];
    for (let i = 1; i <= 1100; i++) entries.push([`req-${i}`, i % 2, i % 3 ? 'A' : 'B']);
    assert.equal((await log.storeFeedback(Date.now(), feedback(T0, ...entries))).accepted.length, 1100);
  } finally {
    await log.close();
  }
  const progress: [number, number][] = [];
  assert.deepEqual(await copyPredictionLog(dir, db.url, { progress: (done, total) => progress.push([done, total]) }), {
    predictions: 2500,
    feedback: 1100,
    fields: 3,
  });
  assert.deepEqual(progress, [
    [1000, 3600],
    [2000, 3600],
    [2500, 3600],
    [3500, 3600],
    [3600, 3600],
  ]);
  assert.deepEqual(await sql(db.url, 'SELECT DISTINCT replica FROM predictions'), [{ replica: `copied:${os.hostname()}` }]);
  await assertSameExports(dir, db.url, [{ model: 'iris', features: ['a', 'b', 'c'] }]);
  const q = await qualities(dir, db.url);
  assert.equal(q.pg[0].labelled, WINDOW);
  assert.deepEqual(q.pg, q.sqlite);
});

test('nothing to copy: no SQLite file, or an empty log, copies zero rows and leaves PostgreSQL untouched', { skip }, async () => {
  const db = await database();
  const noLog = tempDir();
  assert.deepEqual(await copyPredictionLog(noLog, db.url), { predictions: 0, feedback: 0, fields: 0 });
  assert.equal(fs.existsSync(path.join(noLog, PREDICTIONS_DB_FILE)), false, 'read-only: no file made');

  const empty = tempDir();
  const log = PredictionLog.open({ dataDir: empty, flushIntervalMs: 60_000 });
  assert.equal(await log.flush(), 0);
  await log.close();
  assert.ok(fs.existsSync(path.join(empty, PREDICTIONS_DB_FILE)), 'the log made its file');
  assert.deepEqual(await copyPredictionLog(empty, db.url), { predictions: 0, feedback: 0, fields: 0 });
  assert.deepEqual(await sql(db.url, "SELECT to_regclass('predictions')::text AS t"), [{ t: null }]);
});

test('a copy that fails part way leaves the target as it was: no rows, no fields, no schema', { skip }, async () => {
  const db = await database();
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000 });
  for (let i = 1; i <= 1500; i++) log.record(request(i, 1));
  await log.close();
  // The last row has a time PostgreSQL's BIGINT cannot hold: COPY fails after the first page went in.
  const file = new Database(path.join(dir, PREDICTIONS_DB_FILE));
  file.prepare('UPDATE predictions SET at = 1e30 WHERE id = (SELECT max(id) FROM predictions)').run();
  file.close();

  await assert.rejects(copyPredictionLog(dir, db.url), /out of range|invalid input syntax/);
  assert.deepEqual(await sql(db.url, "SELECT to_regclass('prediction_log_schema')::text AS t"), [{ t: null }]);
});

test('a log file of the first schema version (no values, shadow flag nor feedback) copies too', { skip }, async () => {
  const db = await database();
  const dir = tempDir();
  const file = new Database(path.join(dir, PREDICTIONS_DB_FILE));
  file.exec(MIGRATIONS[0]);
  file.pragma('user_version = 1');
  file
    .prepare(
      'INSERT INTO predictions (at, request_id, model, version, row_index, inputs, label, probabilities, latency_ms) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    .run(T0, 'old-1', 'iris', 1, 0, '{"a":1}', 'A', '[0.9,0.1]', 2.5);
  file.prepare("INSERT INTO input_fields (name) VALUES ('a')").run();
  file.close();

  assert.deepEqual(await copyPredictionLog(dir, db.url, { replica: 'old' }), { predictions: 1, feedback: 0, fields: 1 });
  assert.deepEqual(
    await sql(
      db.url,
      'SELECT at::float8 AS at, request_id, model, version, inputs, label, probabilities, latency_ms, prediction_values, shadow ' +
        'FROM predictions',
    ),
    [
      {
        at: T0,
        request_id: 'old-1',
        model: 'iris',
        version: 1,
        inputs: '{"a":1}',
        label: 'A',
        probabilities: '[0.9,0.1]',
        latency_ms: 2.5,
        prediction_values: null,
        shadow: 0,
      },
    ],
  );
});

test('a target that cannot be reached is PREDICTION_LOG_DOWN, without its password', { skip }, async () => {
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000 });
  log.record(request(1, 1));
  await log.close();
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  const url = 'postgres://someone:s3cret-pw@127.0.0.1:1/mlops';
  await assert.rejects(copyPredictionLog(dir, url), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'PREDICTION_LOG_DOWN');
    assert.match(err.message, /prediction log database postgres:\/\/someone@127\.0\.0\.1:1\/mlops cannot be reached/);
    assert.equal(err.message.includes('s3cret-pw'), false);
    return true;
  });
});
