// The prediction log and its labels in a real PostgreSQL (test/helpers/postgres.ts: a fresh database
// per test): rows and their values, the export against SQLite's, a real outage (connections refused
// and the writer's connection terminated) with the queue bound, feedback, retention and close().
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { LiveQuality, PredictionLogEntry } from '../../common/contract';
import { PredictionLog, type FeedbackBatch, type FeedbackKeys, type PredictionBatch } from '../../server/prediction-log';
import { exportLabelled, exportPredictionLog, labelledModels } from '../../server/prediction-log/export';
import { mlops } from '../helpers/cli';
import { needsPostgres, type TestDatabase } from '../helpers/postgres';
import { collect, readLog, request, T0 } from '../helpers/prediction-log';
import { pgLogFixtures, sql } from '../helpers/prediction-log-postgres';

const skip = needsPostgres();

const { tempDir, database } = pgLogFixtures('plog');

/** The PostgreSQL log read back with SQL of the test's own, in the form of readLog (the SQLite one). */
async function readPg(url: string): Promise<(PredictionLogEntry & { replica: string; pgShadow: number })[]> {
  const rows = await sql<Record<string, string | number | null>>(
    url,
    'SELECT at::float8 AS at, replica, request_id, model, version, inputs, label, probabilities, latency_ms, prediction_values, shadow ' +
      'FROM predictions ORDER BY at, id',
  );
  return rows.map((r) => ({
    at: r.at as number,
    requestId: r.request_id as string,
    model: r.model as string,
    version: r.version as number,
    inputs: JSON.parse(r.inputs as string) as PredictionLogEntry['inputs'],
    label: r.label as string | null,
    probabilities: r.probabilities === null ? null : (JSON.parse(r.probabilities as string) as number[]),
    values: r.prediction_values === null ? null : (JSON.parse(r.prediction_values as string) as number[]),
    latencyMs: r.latency_ms as number,
    replica: r.replica as string,
    pgShadow: r.shadow as number,
  }));
}

/** Typed inputs (a formula-like string, a boolean, an integer, a float32) and regression values. */
function typedRequest(i: number): PredictionBatch {
  return {
    at: T0 + 500 + i,
    requestId: `typed-${i}`,
    model: 'houses',
    version: 1,
    features: ['city', 'garden', 'rooms', 'area', 'secret'],
    kinds: 'sbdfd',
    rows: Float64Array.from([NaN, 1, 3, 72.5, 42, NaN, 0, 4, NaN, 43]),
    strings: ['=cmd|calc', '', '', '', '', 'pa\\ris\t\n\r"x" \\N', '', '', '', ''],
    n: 2,
    labels: null,
    probabilities: null,
    nClasses: 0,
    values: Float32Array.from([151.2, 99]),
    nTargets: 1,
    latencyMs: 1,
  };
}

async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

/** Refuses new connections to the database and ends the open ones: the writer sees the database go away. */
async function takeDown(db: TestDatabase): Promise<void> {
  await sql(db.adminUrl, `ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
  await sql(db.adminUrl, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
    db.name,
  ]);
}

async function bringBack(db: TestDatabase): Promise<void> {
  await sql(db.adminUrl, `ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
}

const keys = (...entries: [string, number][]): FeedbackKeys => ({
  requestIds: entries.map((e) => e[0]),
  rows: Int32Array.from(entries.map((e) => e[1])),
});

function labels(predictionAt: number, ...entries: [string, number, string][]): FeedbackBatch {
  return {
    requestIds: entries.map((e) => e[0]),
    rows: Int32Array.from(entries.map((e) => e[1])),
    index: Int32Array.from(entries.map((_, i) => i)),
    labels: entries.map((e) => e[2]),
    values: new Float64Array(entries.length),
    predictionAt: Float64Array.from(entries.map(() => predictionAt)),
  };
}

test('rows go to PostgreSQL with their values and replica; the export equals the SQLite one of the same rows', { skip }, async () => {
  const db = await database();
  const dir = tempDir();
  const sqliteDir = tempDir();
  const pgLog = PredictionLog.open({
    dataDir: dir,
    databaseUrl: db.url,
    replica: 'replica-a',
    flushIntervalMs: 60_000,
    redact: ['secret'],
  });
  const sqliteLog = PredictionLog.open({ dataDir: sqliteDir, flushIntervalMs: 60_000, redact: ['secret'] });
  try {
    for (const log of [pgLog, sqliteLog]) {
      for (let i = 1; i <= 3; i++) assert.equal(log.record(request(i, i)), true);
      assert.equal(log.record(typedRequest(1)), true);
      assert.equal(log.record({ ...request(9, 1), features: ['a', 'b', 'z'], requestId: 'late-field' }), true);
      assert.equal(await log.flush(), 9);
    }
    assert.equal(fs.existsSync(path.join(dir, 'predictions.sqlite')), false, 'PostgreSQL configured: no SQLite file');
    const stored = await readPg(db.url);
    assert.deepEqual(
      stored.map(({ replica: _replica, pgShadow: _shadow, ...entry }) => entry),
      readLog(sqliteDir),
      'the same rows, values and JSON as SQLite',
    );
    assert.deepEqual(new Set(stored.map((r) => r.replica)), new Set(['replica-a']));
    const typed = stored.find((r) => r.requestId === 'typed-1')!;
    assert.deepEqual(typed.inputs, { city: '=cmd|calc', garden: true, rooms: 3, area: 72.5 }, 'typed, secret redacted');
    assert.deepEqual(typed.values, [151.2]);
    assert.deepEqual(pgLog.stats(), {
      enabled: true,
      queued: 0,
      written: 9,
      dropped: 0,
      flushes: 1,
      database: 'ok',
      databaseSince: pgLog.stats().databaseSince,
    });

    for (const format of ['csv', 'jsonl'] as const) {
      for (const since of [undefined, T0 + 2000]) {
        const fromPg = collect();
        const fromSqlite = collect();
        const n = await exportPredictionLog(dir, format, fromPg.out, { since, databaseUrl: db.url });
        assert.equal(await exportPredictionLog(sqliteDir, format, fromSqlite.out, { since, databaseUrl: '' }), n);
        assert.ok(n > 0);
        assert.equal(fromPg.text(), fromSqlite.text(), `${format} since ${since}: byte for byte`);
      }
    }
    const csv = collect();
    await exportPredictionLog(dir, 'csv', csv.out, { databaseUrl: db.url });
    assert.match(csv.text(), /,'=cmd\|calc,/, 'spreadsheet-safe');
  } finally {
    await pgLog.close();
    await sqliteLog.close();
  }
});

test('an export of a database the log never wrote to is empty, with its header', { skip }, async () => {
  const db = await database();
  const out = collect();
  assert.equal(await exportPredictionLog(tempDir(), 'csv', out.out, { databaseUrl: db.url }), 0);
  assert.equal(out.text(), 'at,request_id,model,version,label,probabilities,latency_ms,values\r\n');
});

test('database down: rows queue, past maxQueue they are dropped and counted, then written once it is back', { skip }, async () => {
  const db = await database();
  const errors: unknown[] = [];
  const log = PredictionLog.open({
    dataDir: tempDir(),
    databaseUrl: db.url,
    flushIntervalMs: 50,
    maxQueue: 10,
    onError: (err) => errors.push(err),
  });
  try {
    assert.equal(log.record(request(1, 2)), true);
    assert.equal(await log.flush(), 2, 'the schema made and the first rows written');
    await takeDown(db);

    const recordedAt = Date.now();
    for (let i = 2; i <= 5; i++) assert.equal(log.record(request(i, 2)), true, 'queued: 8 rows');
    assert.ok(await until(() => log.stats().database === 'unreachable', 5000), 'the writer noticed');
    assert.ok(log.stats().databaseSince! >= recordedAt - 1000);
    assert.equal(log.record(request(6, 3)), false, '2 of 3 rows fit');
    assert.equal(log.record(request(7, 1)), false, 'none fits');
    assert.deepEqual(
      { queued: log.stats().queued, written: log.stats().written, dropped: log.stats().dropped },
      { queued: 10, written: 2, dropped: 2 },
    );
    await assert.rejects(log.flush(), { code: 'PREDICTION_LOG_DOWN', status: 503 }, 'a flush hears of it');
    assert.ok(errors.length >= 1, 'reported through onError');
    await assert.rejects(log.lookupFeedback(keys(['req-1', 0])), { code: 'PREDICTION_LOG_DOWN', status: 503 }, 'feedback: 503, retry');

    await bringBack(db);
    assert.ok(await until(() => log.stats().queued === 0, 15_000), 'written after it is back');
    assert.equal(log.stats().database, 'ok');
    assert.deepEqual({ written: log.stats().written, dropped: log.stats().dropped }, { written: 12, dropped: 2 });
    const stored = await readPg(db.url);
    assert.deepEqual(
      stored.map((r) => r.requestId),
      ['req-1', 'req-1', 'req-2', 'req-2', 'req-3', 'req-3', 'req-4', 'req-4', 'req-5', 'req-5', 'req-6', 'req-6'],
      'the queued rows, in order; the first 2 rows of req-6; nothing of req-7',
    );
  } finally {
    await bringBack(db);
    await log.close();
  }
});

test(
  'close() commits everything recorded before it; with the database down it waits a bounded time and counts the loss',
  { skip },
  async () => {
    const db = await database();
    const log = PredictionLog.open({ dataDir: tempDir(), databaseUrl: db.url, flushIntervalMs: 60_000 });
    for (let i = 1; i <= 50; i++) log.record(request(i, 2));
    await log.close();
    assert.equal((await readPg(db.url)).length, 100);
    assert.equal(log.record(request(51)), false, 'after close: dropped');

    const down = PredictionLog.open({ dataDir: tempDir(), databaseUrl: db.url, flushIntervalMs: 60_000, onError: () => {} });
    down.record(request(60, 3));
    await down.flush();
    await takeDown(db);
    try {
      down.record(request(61, 4));
      const started = Date.now();
      await assert.rejects(down.close(), /4 rows could not be written before closing: the database was unreachable/);
      assert.ok(Date.now() - started < 12_000, 'bounded');
      assert.deepEqual({ queued: down.stats().queued, dropped: down.stats().dropped }, { queued: 0, dropped: 4 });
    } finally {
      await bringBack(db);
    }
    assert.equal((await readPg(db.url)).length, 103);
  },
);

test(
  'feedback: labels join the PostgreSQL predictions (answer, not shadow), duplicates and conflicts, live quality, labelled export',
  { skip },
  async () => {
    const db = await database();
    const dir = tempDir();
    const updates: LiveQuality[][] = [];
    const log = PredictionLog.open({ dataDir: dir, databaseUrl: db.url, flushIntervalMs: 60_000, onQuality: (q) => updates.push(q) });
    try {
      const at = Date.now() - 10_000;
      log.record({ ...request(1, 2), at, labels: ['A', 'B'], requestId: 'r1', version: 1 });
      log.record({ ...request(1, 2), at, labels: ['A', 'A'], requestId: 'r1', version: 2, shadow: true });
      // The lookup commits the queued rows itself (60 s flush interval).
      const found = await log.lookupFeedback(keys(['r1', 1], ['r1', 2], ['nope', 0]));
      assert.deepEqual(
        [found.models, [...found.model], [...found.version]],
        [['iris'], [0, -1, -1], [1, 0, 0]],
        'the answer, not the shadow',
      );
      assert.deepEqual([...found.classification], [1, 0, 0]);
      assert.deepEqual([...found.requestRows], [0, 2, 0], 'r1 has 2 rows; "nope" none');
      assert.equal(found.at[0], at);

      const stored = await log.storeFeedback(Date.now(), labels(at, ['r1', 0, 'A'], ['r1', 1, 'A']));
      assert.deepEqual([...stored.accepted], [0, 1]);
      const byVersion = new Map(stored.qualities.map((q) => [q.version, q]));
      assert.equal(byVersion.get(1)!.classification!.accuracy, 0.5, 'the champion answered A, B');
      assert.equal(byVersion.get(2)!.classification!.accuracy, 1, 'the shadow answered A, A');
      assert.deepEqual(updates.at(-1), stored.qualities);

      const again = await log.storeFeedback(Date.now(), labels(at, ['r1', 0, 'A']));
      assert.deepEqual([[...again.accepted], again.duplicates, again.conflicts], [[], 1, []], 'a duplicate');
      const conflict = await log.storeFeedback(Date.now(), labels(at, ['r1', 0, 'A'], ['r1', 1, 'B']));
      assert.deepEqual(conflict.conflicts, [{ index: 1, requestId: 'r1', row: 1, stored: 'A', byEntry: null }]);
      const twice = await log.storeFeedback(Date.now(), labels(at, ['r2', 0, 'A'], ['r2', 0, 'B']));
      assert.deepEqual(twice.conflicts, [{ index: 1, requestId: 'r2', row: 0, stored: 'A', byEntry: 0 }]);
      assert.deepEqual(
        await sql(db.url, 'SELECT request_id, row_index, actual_label FROM feedback ORDER BY id'),
        [
          { request_id: 'r1', row_index: 0, actual_label: 'A' },
          { request_id: 'r1', row_index: 1, actual_label: 'A' },
        ],
        'a batch with a conflict stores nothing',
      );

      assert.deepEqual(await labelledModels(dir, { databaseUrl: db.url }), ['iris']);
      const training = collect();
      assert.equal(
        await exportLabelled(dir, { model: 'iris', features: ['a', 'c'], target: 'species' }, training.out, { databaseUrl: db.url }),
        2,
      );
      assert.equal(training.text(), 'a,c,species\r\n1,0.5,A\r\n1.1,1.5,A\r\n', 'the answers, one row per label');
    } finally {
      await log.close();
    }

    // Opened again: the quality of both versions is computed from what PostgreSQL holds.
    const reopened: LiveQuality[][] = [];
    const log2 = PredictionLog.open({
      dataDir: dir,
      databaseUrl: db.url,
      flushIntervalMs: 60_000,
      onQuality: (q, replace) => replace && reopened.push(q),
    });
    try {
      assert.ok(await until(() => reopened.length > 0, 10_000));
      assert.deepEqual(reopened[0].map((q) => [q.version, q.labelled]).sort(), [
        [1, 2],
        [2, 2],
      ]);
    } finally {
      await log2.close();
    }
  },
);

test('retention: rows beyond maxRows and older than maxAgeDays are deleted, with their labels', { skip }, async () => {
  const db = await database();
  const dir = tempDir();
  const old = Date.now() - 3 * 86_400_000;
  const now = Date.now();
  // Written (and labelled) without retention first, so that the label is there before anything is deleted.
  const writer = PredictionLog.open({ dataDir: dir, databaseUrl: db.url, flushIntervalMs: 60_000 });
  writer.record({ ...request(1, 2), at: old, requestId: 'old' });
  for (let i = 2; i <= 5; i++) writer.record({ ...request(i, 2), at: now + i });
  await writer.storeFeedback(Date.now(), labels(old, ['old', 0, 'A']));
  await writer.close();
  assert.equal((await readPg(db.url)).length, 10);

  const log = PredictionLog.open({ dataDir: dir, databaseUrl: db.url, flushIntervalMs: 50, maxRows: 5, maxAgeDays: 1 });
  try {
    assert.ok(
      await until(async () => (await readPg(db.url)).length === 5, 10_000),
      'the 2 old rows by age, then the oldest beyond 5 by count',
    );
    assert.deepEqual(
      (await readPg(db.url)).map((r) => r.requestId),
      ['req-3', 'req-4', 'req-4', 'req-5', 'req-5'],
    );
    const labelsLeft = async () => (await sql<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM feedback'))[0].n;
    assert.ok(await until(async () => (await labelsLeft()) === 0, 10_000), 'the label went with its prediction');
  } finally {
    await log.close();
  }
});

test('two logs (replicas) starting together on one new database migrate once and both write', { skip }, async () => {
  const db = await database();
  const logs = ['r1', 'r2', 'r3'].map((replica) =>
    PredictionLog.open({ dataDir: tempDir(), databaseUrl: db.url, replica, flushIntervalMs: 60_000 }),
  );
  try {
    logs.forEach((log, i) => log.record(request(i + 1, 1)));
    assert.deepEqual(await Promise.all(logs.map((log) => log.flush())), [1, 1, 1]);
    assert.deepEqual(await sql(db.url, 'SELECT version FROM prediction_log_schema'), [{ version: 1 }]);
    assert.deepEqual((await readPg(db.url)).map((r) => r.replica).sort(), ['r1', 'r2', 'r3']);
  } finally {
    await Promise.all(logs.map((log) => log.close()));
  }
});

test('a process that ends without close() still writes its queue to PostgreSQL (exit hook)', { skip }, async () => {
  const db = await database();
  const dir = tempDir();
  const script = path.join(dir, 'exit.ts');
  const module = path.resolve(__dirname, '..', '..', 'server', 'prediction-log', 'index.ts');
  fs.writeFileSync(
    script,
    `import { PredictionLog } from ${JSON.stringify(module)};
const log = PredictionLog.open({ dataDir: process.argv[2], databaseUrl: process.env.LOG_URL, flushIntervalMs: 60_000 });
for (let i = 0; i < 7; i++)
  log.record({ at: ${T0} + i, requestId: 'r' + i, model: 'm', version: 1, features: ['x'], rows: [i], labels: ['l'],
    probabilities: null, nClasses: 0, latencyMs: 1 });
`,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, dir], {
    cwd: path.resolve(__dirname, '..', '..'),
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, LOG_URL: db.url },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    (await readPg(db.url)).map((r) => r.requestId),
    ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6'],
  );
});

test('a database down at start: its state and the live quality come back without traffic', { skip }, async () => {
  const db = await database();
  const dir = tempDir();
  const writer = PredictionLog.open({ dataDir: dir, databaseUrl: db.url, flushIntervalMs: 60_000 });
  const at = Date.now() - 1000;
  writer.record({ ...request(1, 1), at, requestId: 'r1', labels: ['A'] });
  await writer.storeFeedback(Date.now(), labels(at, ['r1', 0, 'A']));
  await writer.close();

  await takeDown(db);
  const qualities: LiveQuality[][] = [];
  const log = PredictionLog.open({
    dataDir: dir,
    databaseUrl: db.url,
    flushIntervalMs: 60_000,
    onError: () => {},
    onQuality: (q, replace) => replace && qualities.push(q),
  });
  try {
    assert.ok(await until(() => log.stats().database === 'unreachable', 10_000), 'the start-up quality request found it down');
    await bringBack(db);
    assert.ok(await until(() => log.stats().database === 'ok', 10_000), 'probed back up with no rows to write');
    assert.ok(await until(() => qualities.length > 0, 10_000), 'the quality asked again');
    assert.deepEqual(
      qualities[0].map((q) => [q.version, q.labelled]),
      [[3, 1]],
    );
  } finally {
    await bringBack(db);
    await log.close();
  }
});

test('mlops logs export reads PostgreSQL from MLOPS_DATABASE_URL; a database out of reach is a clear error', { skip }, async () => {
  const db = await database();
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, databaseUrl: db.url, flushIntervalMs: 60_000 });
  for (let i = 1; i <= 3; i++) log.record(request(i, 2));
  log.record(typedRequest(2));
  await log.close();
  const expected = collect();
  await exportPredictionLog(dir, 'csv', expected.out, { databaseUrl: db.url });

  const csv = mlops(dir, ['logs', 'export'], { MLOPS_DATABASE_URL: db.url });
  assert.equal(csv.code, 0, csv.stderr);
  assert.equal(csv.stdout, expected.text());
  assert.match(csv.stderr, /^8 predictions exported/);
  const jsonl = mlops(dir, ['logs', 'export', '--format', 'jsonl', '--since', new Date(T0 + 2000).toISOString()], {
    MLOPS_DATABASE_URL: db.url,
  });
  assert.equal(jsonl.code, 0, jsonl.stderr);
  assert.deepEqual(
    jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as PredictionLogEntry).requestId),
    ['req-2', 'req-2', 'req-3', 'req-3'],
  );

  await takeDown(db);
  try {
    const down = mlops(dir, ['logs', 'export'], { MLOPS_DATABASE_URL: db.url });
    assert.notEqual(down.code, 0);
    assert.match(down.stderr, /prediction log database postgres:\/\/mlops_test@.* cannot be reached/);
    assert.doesNotMatch(down.stderr, /\n\s+at /, 'no stack');
    assert.equal(down.stderr.includes(new URL(db.url).password), false, 'no password');
  } finally {
    await bringBack(db);
  }
});
