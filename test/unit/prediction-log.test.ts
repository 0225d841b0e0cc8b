import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import type { PredictionLogEntry } from '../../common/contract';
import { PREDICTIONS_DB_FILE, PredictionLog, type PredictionBatch } from '../../server/prediction-log';
import { exportPredictionLog } from '../../server/prediction-log/export';
import { collect, readLog, request, T0 } from '../helpers/prediction-log';

const ROOT = path.resolve(__dirname, '..', '..');
const MODULE = path.join(ROOT, 'server', 'prediction-log', 'index.ts');

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plog-'));
  dirs.push(dir);
  return dir;
}

function dbRows(dir: string): number {
  const db = new Database(path.join(dir, PREDICTIONS_DB_FILE), { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM predictions').pluck().get() as number;
  } finally {
    db.close();
  }
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return cond();
}

test('record + flush + read back exact values, one row per input row', async () => {
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000 });
  assert.equal(log.record(request(1, 2)), true);
  assert.equal(log.record(request(2, 1, { probabilities: null, version: 7, model: 'other' })), true);
  assert.deepEqual(log.stats(), { enabled: true, queued: 3, written: 0, dropped: 0, flushes: 0 });
  assert.equal(await log.flush(), 3);
  assert.equal(await log.flush(), 0, 'nothing left to write');
  assert.deepEqual(log.stats(), { enabled: true, queued: 0, written: 3, dropped: 0, flushes: 1 });
  const expected: PredictionLogEntry[] = [
    {
      at: T0 + 1000,
      requestId: 'req-1',
      model: 'iris',
      version: 3,
      inputs: { a: 1, b: -1, c: 0.5 },
      label: 'label-1-0',
      probabilities: [0.25, 0.75],
      values: null,
      latencyMs: 2.5,
    },
    {
      at: T0 + 1000,
      requestId: 'req-1',
      model: 'iris',
      version: 3,
      inputs: { a: 1.1, b: -1, c: 1.5 },
      label: 'label-1-1',
      probabilities: [0.25, 0.75],
      values: null,
      latencyMs: 2.5,
    },
    {
      at: T0 + 2000,
      requestId: 'req-2',
      model: 'other',
      version: 7,
      inputs: { a: 2, b: -2, c: 0.5 },
      label: 'label-2-0',
      probabilities: null,
      values: null,
      latencyMs: 3.5,
    },
  ];
  assert.deepEqual(readLog(dir), expected);
  assert.deepEqual(readLog(dir, { since: T0 + 1500 }), expected.slice(2));
  assert.deepEqual(readLog(dir, { limit: 1 }), expected.slice(0, 1));
  const db = new Database(path.join(dir, PREDICTIONS_DB_FILE), { readonly: true });
  assert.deepEqual(db.prepare('SELECT row_index FROM predictions ORDER BY id').pluck().all(), [0, 1, 0]);
  assert.equal(db.pragma('user_version', { simple: true }), 3);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
  await log.close();
  assert.equal(fs.existsSync(path.join(dir, 'mlops.sqlite')), false, 'the registry database is not touched');
});

test('float32 tensors are stored as the decimals they came from; the caller may reuse its buffers', async () => {
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000 });
  const rows = Float32Array.from([5.1, 3.5, 1.4, 0.2]);
  const probs = Float32Array.from([0.9, 0.07, 0.03]);
  log.record({
    at: T0,
    requestId: 'r',
    model: 'iris',
    version: 1,
    features: ['sl', 'sw', 'pl', 'pw'],
    rows,
    labels: ['setosa'],
    probabilities: probs,
    nClasses: 3,
    latencyMs: 0.8,
  });
  rows.fill(99);
  probs.fill(99);
  await log.flush();
  const [entry] = readLog(dir);
  assert.deepEqual(entry.inputs, { sl: 5.1, sw: 3.5, pl: 1.4, pw: 0.2 });
  assert.deepEqual(entry.probabilities, [0.9, 0.07, 0.03]);
  assert.equal(Math.fround(entry.inputs.sl), Math.fround(5.1), 'the same float32 the model saw');
  await log.close();
});

test('nothing is written before a flush; the timer flushes on its own within 3 intervals', async () => {
  const dir = tempDir();
  const interval = 100;
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: interval });
  log.record(request(0, 1));
  assert.equal(await log.flush(), 1); // the worker is up (it starts with open(): ~0.1 s from sources)
  const start = Date.now();
  log.record(request(1, 3));
  assert.equal(dbRows(dir), 1, 'record() does no I/O');
  assert.equal(readLog(dir).length, 1);
  assert.equal(log.stats().queued, 3);
  assert.ok(await until(() => log.stats().written === 4, 3 * interval), `flushed by the timer within ${3 * interval} ms`);
  assert.ok(Date.now() - start <= 3 * interval + 50);
  assert.equal(dbRows(dir), 4);
  assert.deepEqual(log.stats(), { enabled: true, queued: 0, written: 4, dropped: 0, flushes: 2 });
  await log.close();
});

test('close() resolves once everything is committed, is idempotent, and later records are dropped and counted', async () => {
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000 });
  for (let i = 0; i < 200; i++) log.record(request(i, 3));
  void log.flush(); // in flight when close() is called: close() waits for it too
  for (let i = 200; i < 250; i++) log.record(request(i, 3)); // 750 rows: several multi-row chunks + remainder
  const closing = log.close();
  assert.equal(log.close(), closing);
  assert.equal(log.record(request(999)), false, 'closing: dropped');
  await closing;
  await log.close();
  assert.deepEqual(log.stats(), { enabled: true, queued: 0, written: 750, dropped: 2, flushes: log.stats().flushes });
  assert.ok(log.stats().flushes >= 1 && log.stats().flushes <= 2);
  assert.equal(log.record(request(999)), false);
  assert.equal(log.stats().dropped, 4);
  assert.equal(dbRows(dir), 750);
  const again = PredictionLog.open({ dataDir: dir });
  const rows = readLog(dir);
  assert.equal(rows.length, 750);
  assert.deepEqual(rows[749], {
    at: T0 + 249_000,
    requestId: 'req-249',
    model: 'iris',
    version: 3,
    inputs: { a: 249.2, b: -249, c: 2.5 },
    label: 'label-249-2',
    probabilities: [0.25, 0.75],
    values: null,
    latencyMs: 250.5,
  });
  await again.close();
});

test('a full queue drops rows, counts them and makes record() return false; rows in flight count until committed', async () => {
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, maxQueue: 5, flushIntervalMs: 60_000 });
  assert.equal(log.record(request(1, 3)), true);
  assert.equal(log.record(request(2, 3)), false, 'only 2 of 3 rows fit');
  assert.equal(log.record(request(3, 1)), false, 'queue full');
  assert.deepEqual(log.stats(), { enabled: true, queued: 5, written: 0, dropped: 2, flushes: 0 });
  const flushed = log.flush();
  assert.equal(log.record(request(9, 1)), false, 'handed over but not committed: still no room');
  assert.deepEqual(log.stats(), { enabled: true, queued: 5, written: 0, dropped: 3, flushes: 0 });
  assert.equal(await flushed, 5);
  assert.deepEqual(
    readLog(dir).map((e) => [e.requestId, e.label]),
    [
      ['req-1', 'label-1-0'],
      ['req-1', 'label-1-1'],
      ['req-1', 'label-1-2'],
      ['req-2', 'label-2-0'],
      ['req-2', 'label-2-1'],
    ],
  );
  assert.equal(log.record(request(4, 5)), true, 'room again after the flush');
  assert.deepEqual(log.stats(), { enabled: true, queued: 5, written: 5, dropped: 3, flushes: 1 });
  await log.close();
});

test('a flush blocked by another writer fails fast, keeps its rows queued and succeeds on retry', async () => {
  const dir = tempDir();
  const errors: unknown[] = [];
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 20, onError: (err) => errors.push(err) });
  const other = new Database(path.join(dir, PREDICTIONS_DB_FILE));
  other.exec('BEGIN IMMEDIATE'); // another process holds the write lock
  log.record(request(1, 2));
  const started = Date.now();
  const flushed = log.flush();
  const beat = Date.now();
  await new Promise((r) => setTimeout(r, 1));
  assert.ok(Date.now() - beat < 100, 'the event loop is not held while the worker waits for the lock');
  const busy = /^prediction log database .*predictions\.sqlite is locked by another process/;
  await assert.rejects(flushed, { code: 'PREDICTION_LOG_BUSY', message: busy });
  assert.ok(Date.now() - started < 1500, 'the flush gives up on the lock long before the 5 s open timeout');
  assert.deepEqual(log.stats(), { enabled: true, queued: 2, written: 0, dropped: 0, flushes: 0 });
  assert.ok(await until(() => errors.length > 0, 1000), 'the timer reports its failure');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(errors.length, 1, 'reported once, not on every tick');
  other.exec('COMMIT');
  other.close();
  assert.ok(await until(() => log.stats().written === 2, 1000), 'the timer retries');
  assert.deepEqual(
    readLog(dir).map((e) => e.label),
    ['label-1-0', 'label-1-1'],
  );
  assert.deepEqual(log.stats(), { enabled: true, queued: 0, written: 2, dropped: 0, flushes: 1 });
  await log.close();
});

test('redacted fields are never stored nor exported', async () => {
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, redact: ['b'], flushIntervalMs: 60_000 });
  log.record(request(1, 2));
  await log.flush();
  assert.deepEqual(
    readLog(dir).map((e) => e.inputs),
    [
      { a: 1, c: 0.5 },
      { a: 1.1, c: 1.5 },
    ],
  );
  const db = new Database(path.join(dir, PREDICTIONS_DB_FILE), { readonly: true });
  const stored = db.prepare('SELECT inputs FROM predictions').pluck().all() as string[];
  assert.ok(
    stored.every((s) => !s.includes('"b"')),
    stored.join(),
  );
  db.close();
  const csv = collect();
  await exportPredictionLog(dir, 'csv', csv.out);
  const header = csv.text().split('\r\n')[0];
  assert.equal(header, 'at,request_id,model,version,a,c,label,probabilities,latency_ms,values');
  const jsonl = collect();
  await exportPredictionLog(dir, 'jsonl', jsonl.out);
  assert.ok(!jsonl.text().includes('"b"'));
  await log.close();
});

test('retention by rows keeps the newest N; by age deletes old rows; the timer applies it', async () => {
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, maxRows: 1000, flushIntervalMs: 20 });
  // Out of time order on purpose: the oldest by time go, not the first inserted.
  for (let i = 12_000; i > 0; i--) log.record(request(i, 1));
  assert.ok(await until(() => log.stats().written === 12_000 && dbRows(dir) === 1000, 5000), 'written, then trimmed in batches');
  assert.deepEqual(
    readLog(dir).map((e) => e.requestId),
    Array.from({ length: 1000 }, (_, k) => `req-${11_001 + k}`),
  );
  await log.close();

  const dir2 = tempDir();
  const now = Date.now();
  const aged = PredictionLog.open({ dataDir: dir2, maxAgeDays: 30, flushIntervalMs: 20 });
  for (const days of [90, 31, 29, 1]) aged.record({ ...request(days, 1), at: now - days * 86_400_000, requestId: `${days}d` });
  assert.ok(await until(() => aged.stats().written === 4 && dbRows(dir2) === 2, 5000), 'rows older than 30 days deleted');
  assert.deepEqual(
    readLog(dir2).map((e) => e.requestId),
    ['29d', '1d'],
  );
  await aged.close();

  const dir3 = tempDir();
  const auto = PredictionLog.open({ dataDir: dir3, maxRows: 10, flushIntervalMs: 20 });
  for (let i = 0; i < 25; i++) auto.record(request(i, 1));
  assert.ok(await until(() => auto.stats().written === 25 && dbRows(dir3) === 10, 2000), 'flushed, then trimmed by the timer');
  assert.deepEqual(
    readLog(dir3).map((e) => e.requestId),
    Array.from({ length: 10 }, (_, k) => `req-${15 + k}`),
  );
  await auto.close();
});

test('CSV export parses back, with quotes, commas and line breaks escaped', async () => {
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000 });
  const tricky = 'big, "red"\nflower';
  log.record({ ...request(1, 2), labels: [tricky, 'two\nlines'], requestId: 'id,"1"' });
  log.record({ ...request(2, 1), probabilities: null, features: ['a', 'b', 'label'], rows: [1, 2, 3] });
  await log.flush();
  const { out, text } = collect();
  assert.equal(await exportPredictionLog(dir, 'csv', out), 3);
  const records = parse(text(), { columns: true }) as Record<string, string>[];
  assert.deepEqual(Object.keys(records[0]), [
    'at',
    'request_id',
    'model',
    'version',
    'a',
    'b',
    'c',
    'input:label',
    'label',
    'probabilities',
    'latency_ms',
    'values',
  ]);
  assert.deepEqual(records[0], {
    at: new Date(T0 + 1000).toISOString(),
    request_id: 'id,"1"',
    model: 'iris',
    version: '3',
    a: '1',
    b: '-1',
    c: '0.5',
    'input:label': '',
    label: tricky,
    probabilities: '[0.25,0.75]',
    latency_ms: '2.5',
    values: '',
  });
  assert.equal(records[1].label, 'two\nlines');
  // csv-parse takes a lone \n inside a CRLF file as data; other readers split records on it: it must be quoted.
  assert.ok(text().includes(',"two\nlines",') && text().includes(',"big, ""red""\nflower",'), text());
  assert.deepEqual(JSON.parse(records[1].probabilities), [0.25, 0.75]);
  assert.deepEqual(
    [records[2].a, records[2].b, records[2].c, records[2]['input:label'], records[2].probabilities],
    ['1', '2', '', '3', ''],
  );
  const since = collect();
  assert.equal(await exportPredictionLog(dir, 'csv', since.out, { since: T0 + 1500 }), 1);
  assert.equal((parse(since.text(), { columns: true }) as unknown[]).length, 1);
  await log.close();
});

test('CSV export escapes cells a spreadsheet would run as formulas; numbers stay numbers', async () => {
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000 });
  const evil = ['=HYPERLINK("http://x","y")', '+1+cmd', '-2+3', '@SUM(A1)', '\tx', '\rx', '\uFF1D1'];
  for (const [i, label] of evil.entries()) {
    log.record({ ...request(i, 1), labels: [label], requestId: label, model: label, features: ['a', 'b', '=c'], probabilities: null });
  }
  await log.flush();
  await log.close();
  const { out, text } = collect();
  assert.equal(await exportPredictionLog(dir, 'csv', out), evil.length);
  const records = parse(text(), { columns: true }) as Record<string, string>[];
  assert.ok(Object.keys(records[0]).includes("'=c"), 'a header cell is escaped too');
  for (const [i, label] of evil.entries()) {
    const r = records[i];
    for (const cell of [r.label, r.request_id, r.model]) assert.equal(cell, `'${label}`);
    assert.equal(r.b, String(-i), 'a negative number is not escaped');
  }
  assert.deepEqual(
    readLog(dir).map((e) => e.label),
    evil,
    'the log itself keeps the values as they came',
  );
});

test('JSONL export lines parse to PredictionLogEntry, equal to read()', async () => {
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000 });
  log.record({ ...request(1, 2), labels: ['a "b"\n', 'c\\d'] });
  log.record({ ...request(2, 1), probabilities: null });
  await log.flush();
  const { out, text } = collect();
  assert.equal(await exportPredictionLog(dir, 'jsonl', out), 3);
  const lines = text().trimEnd().split('\n');
  assert.equal(lines.length, 3);
  const entries = lines.map((l) => JSON.parse(l) as PredictionLogEntry);
  assert.deepEqual(entries, readLog(dir));
  const keys = ['at', 'requestId', 'model', 'version', 'inputs', 'label', 'probabilities', 'values', 'latencyMs'];
  assert.deepEqual(Object.keys(entries[0]), keys);
  await log.close();
});

test('export honours backpressure, reads a snapshot while flushes go on, and fails when the stream closes', async () => {
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000 });
  for (let i = 0; i < 5000; i++) log.record(request(i, 1));
  await log.flush();
  const chunks: string[] = [];
  const during: Promise<number>[] = [];
  let waits = 0;
  const slow = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      if (chunks.length === 1) {
        log.record(request(99_999, 1)); // the worker writes while the export iterates
        during.push(log.flush());
      }
      setTimeout(cb, 2);
    },
  });
  slow.on('drain', () => waits++);
  const heapBefore = process.memoryUsage().heapUsed;
  assert.equal(await exportPredictionLog(dir, 'jsonl', slow), 5000, 'the snapshot taken when the export began');
  assert.ok(waits >= 5, `waited for drain ${waits} times`);
  assert.ok(process.memoryUsage().heapUsed - heapBefore < 50e6);
  const lines = chunks.join('').trimEnd().split('\n');
  assert.equal(lines.length, 5000);
  assert.equal((JSON.parse(lines[4999]) as PredictionLogEntry).requestId, 'req-4999');
  assert.deepEqual(await Promise.all(during), [1]);
  assert.equal(dbRows(dir), 5001);

  const broken = new Writable({
    highWaterMark: 1024,
    write(_chunk, _enc, _cb) {
      setImmediate(() => this.destroy()); // the client goes away with a write pending: no 'drain' ever
    },
  });
  await assert.rejects(exportPredictionLog(dir, 'csv', broken), /closed before the export finished|destroyed/);
  assert.equal(readLog(dir).length, 5001, 'the main connection is still usable');
  await log.close();
});

test('crash (SIGKILL) during a flush: the database is intact and holds a prefix of whole requests', async () => {
  // Three kills: where the kill lands in the flush varies; each run must hold the invariant.
  for (let run = 0; run < 3; run++) await crashOnce();
});

async function crashOnce(): Promise<void> {
  const dir = tempDir();
  const script = path.join(dir, 'child.ts');
  fs.writeFileSync(
    script,
    `import { PredictionLog } from ${JSON.stringify(MODULE)};
const log = PredictionLog.open({ dataDir: process.argv[2], flushIntervalMs: 60_000 });
const features = ['x', 'y'];
let i = 0;
let flushes = 0;
// Hand over every 20 ms, as the timer would, announcing each hand-over (stdout to a pipe is
// synchronous on Linux): the worker starts its transaction right away, so that the parent's
// SIGKILL usually lands inside it.
setInterval(() => {
  if (log.stats().queued === 0) return;
  process.stdout.write('flushing\\n');
  log.flush().catch((err) => { process.stdout.write('failed ' + err.message + '\\n'); process.exit(4); });
}, 20);
function loop(): void {
  for (let k = 0; k < 20; k++, i++) {
    const n = (i % 5) + 1;
    const rows = new Float64Array(n * 2);
    for (let r = 0; r < n; r++) { rows[r * 2] = i; rows[r * 2 + 1] = r; }
    const ok = log.record({ at: ${T0} + i, requestId: 'r' + i, model: 'm', version: 1, features, rows,
      labels: Array.from({ length: n }, (_, r) => 'L' + i + '.' + r), probabilities: null, nClasses: 0, latencyMs: i });
    if (!ok) { process.stdout.write('dropped\\n'); process.exit(3); }
  }
  const s = log.stats();
  if (s.flushes > flushes) { flushes = s.flushes; process.stdout.write('written ' + s.written + '\\n'); }
  setTimeout(loop, 1);
}
loop();
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script, dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let reported = 0;
  let flushesSeen = 0;
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  let deadline: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'dropped') reject(new Error('the child dropped rows'));
        const m = /^written (\d+)$/.exec(line);
        if (m) reported = Number(m[1]);
        // Once the worker is up (its first commit reported), the third hand-over after.
        if (line === 'flushing' && reported > 0 && ++flushesSeen === 3) {
          child.kill('SIGKILL');
          resolve();
        }
      }
    });
    child.on('exit', () => reject(new Error(`child exited early: ${stderr}`)));
    deadline = setTimeout(() => reject(new Error(`no flush reported in 20 s: ${stderr}`)), 20_000);
  }).finally(() => clearTimeout(deadline));
  assert.equal(await exited, 'SIGKILL');
  assert.ok(fs.existsSync(path.join(dir, `${PREDICTIONS_DB_FILE}-wal`)), 'killed before it could checkpoint and close');

  const db = new Database(path.join(dir, PREDICTIONS_DB_FILE));
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  const rows = db.prepare('SELECT request_id, row_index, inputs, label FROM predictions ORDER BY id').all() as {
    request_id: string;
    row_index: number;
    inputs: string;
    label: string;
  }[];
  db.close();
  assert.ok(rows.length >= reported, `${rows.length} rows on disk, ${reported} reported written before the kill`);
  assert.ok(rows.length > 0);
  // Rows are exactly the first m requests, each whole and in order.
  let k = 0;
  let i = 0;
  while (k < rows.length) {
    const n = (i % 5) + 1;
    for (let r = 0; r < n; r++, k++) {
      assert.ok(k < rows.length, `request r${i} is partial`);
      assert.deepEqual(rows[k], { request_id: `r${i}`, row_index: r, inputs: JSON.stringify({ x: i, y: r }), label: `L${i}.${r}` });
    }
    i++;
  }
  // Reopening through the module works on the recovered file.
  const log = PredictionLog.open({ dataDir: dir });
  await log.close();
  assert.equal(readLog(dir).length, rows.length);
}

test('a process that ends without close() still writes its queue (exit hook; neither the timer nor the worker keeps it alive)', () => {
  const dir = tempDir();
  const script = path.join(dir, 'exit.ts');
  fs.writeFileSync(
    script,
    `import { PredictionLog } from ${JSON.stringify(MODULE)};
const log = PredictionLog.open({ dataDir: process.argv[2], flushIntervalMs: 60_000 });
for (let i = 0; i < 7; i++)
  log.record({ at: ${T0} + i, requestId: 'r' + i, model: 'm', version: 1, features: ['x'], rows: [i], labels: ['l'],
    probabilities: null, nClasses: 0, latencyMs: 1 });
`,
  );
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, dir], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(Date.now() - started < 20_000);
  assert.equal(dbRows(dir), 7);

  // process.exit() with one hand-over in flight and more rows queued behind it.
  const dir2 = tempDir();
  const script2 = path.join(dir2, 'exit.ts');
  fs.writeFileSync(
    script2,
    `import { PredictionLog } from ${JSON.stringify(MODULE)};
const log = PredictionLog.open({ dataDir: process.argv[2], flushIntervalMs: 60_000 });
const rec = (i: number) =>
  log.record({ at: ${T0} + i, requestId: 'r' + i, model: 'm', version: 1, features: ['x'], rows: [i], labels: ['l'],
    probabilities: null, nClasses: 0, latencyMs: 1 });
setTimeout(() => {
  for (let i = 0; i < 5000; i++) rec(i);
  void log.flush();
  for (let i = 5000; i < 5500; i++) rec(i);
  process.exit(0);
}, 50);
`,
  );
  const r2 = spawnSync(process.execPath, ['--import', 'tsx', script2, dir2], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r2.status, 0, r2.stderr);
  assert.equal(dbRows(dir2), 5500);
});

test('a large flush does not block the main thread: the worker builds and writes the rows', async (t) => {
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, maxQueue: 200_000, flushIntervalMs: 60_000 });
  const features = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
  const classes = ['Setosa', 'Versicolor', 'Virginica'];
  const batch = (i: number): PredictionBatch => {
    const rows = new Float32Array(400);
    for (let k = 0; k < rows.length; k++) rows[k] = 1 + ((i + k) % 70) / 10;
    const probabilities = new Float32Array(300);
    for (let k = 0; k < probabilities.length; k++) probabilities[k] = ((i + k) % 10) / 10;
    return {
      at: T0 + i,
      requestId: `req-${i}`,
      model: 'iris',
      version: 1,
      features,
      rows,
      labels: Array.from({ length: 100 }, (_, r) => classes[(i + r) % 3]),
      probabilities,
      nClasses: 3,
      latencyMs: 1,
    };
  };
  log.record({ ...request(1, 2), labels: [undefined as unknown as string, 'x'] });
  assert.equal(await log.flush(), 2, 'the worker is up');
  assert.equal(readLog(dir)[0].label, '', 'a missing label is stored empty');
  for (let i = 0; i < 1000; i++) assert.equal(log.record(batch(i)), true); // 100k rows: ~1 s of work if written on the main thread
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  await new Promise((r) => setTimeout(r, 20));
  const started = performance.now();
  const flushed = log.flush();
  const handOver = performance.now() - started;
  assert.equal(await flushed, 100_000);
  const total = performance.now() - started;
  await new Promise((r) => setTimeout(r, 20));
  delay.disable();
  const max = delay.max / 1e6;
  t.diagnostic(
    `hand-over ${handOver.toFixed(2)} ms on the main thread; committed after ${total.toFixed(0)} ms; ` +
      `event loop max delay ${max.toFixed(1)} ms`,
  );
  // Relative, not absolute, bounds (a loaded machine stretches both): written on the main thread, the
  // event loop would stall for about the whole flush; handed over, it stalls for a small part of it.
  assert.ok(handOver < total / 4, `hand-over took ${handOver} ms of ${total} ms`);
  assert.ok(max < total / 3, `the event loop was held up to ${max} ms of a ${total} ms flush`);
  assert.equal(dbRows(dir), 100_002);
  assert.deepEqual(readLog(dir, { since: T0 + 999, limit: 1 })[0], {
    at: T0 + 999,
    requestId: 'req-999',
    model: 'iris',
    version: 1,
    inputs: { sepal_length: 2.9, sepal_width: 3, petal_length: 3.1, petal_width: 3.2 },
    label: classes[0],
    probabilities: [0.9, 0, 0.1],
    values: null,
    latencyMs: 1,
  });
  await log.close();
});

test('a writer thread that dies loses only its hand-over (counted, reported); a new one takes over', async () => {
  const dir = tempDir();
  const errors: unknown[] = [];
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 20, onError: (err) => errors.push(err) });
  log.record(request(1, 2));
  assert.equal(await log.flush(), 2);
  const worker = (log as unknown as { worker: { terminate(): Promise<number> } }).worker;
  void worker.terminate(); // as if it crashed, with the next hand-over in flight
  log.record(request(2, 3));
  const outcome = await log.flush().catch((err: Error) => err);
  assert.ok(await until(() => errors.length === 1, 1000), 'reported');
  assert.match(String(errors[0]), /writer thread exited/);
  if (outcome instanceof Error) {
    assert.match(outcome.message, /writer thread exited/);
    assert.deepEqual(log.stats(), { enabled: true, queued: 0, written: 2, dropped: 3, flushes: 1 });
  } else {
    assert.equal(outcome, 3, 'committed before the thread stopped');
    assert.deepEqual(log.stats(), { enabled: true, queued: 0, written: 5, dropped: 0, flushes: 2 });
  }
  assert.equal(dbRows(dir), log.stats().written);
  log.record(request(3, 1));
  assert.ok(await until(() => log.stats().queued === 0, 3000), 'a new worker writes the next rows');
  assert.ok(readLog(dir).some((e) => e.requestId === 'req-3'));
  await log.close();
});

/** A regression request of 2 rows over a string, a boolean, an integer and a nullable float feature. */
function typedRequest(i: number): PredictionBatch {
  return {
    at: T0 + i,
    requestId: `typed-${i}`,
    model: 'houses',
    version: 1,
    features: ['city', 'garden', 'rooms', 'area'],
    kinds: 'sbdf',
    rows: Float64Array.from([NaN, 1, 3, 72.5, NaN, 0, 4, NaN]),
    strings: ['=cmd|calc', '', '', '', 'paris', '', '', ''],
    n: 2,
    labels: null,
    probabilities: null,
    nClasses: 0,
    values: Float32Array.from([151.2, 99]),
    nTargets: 1,
    latencyMs: 1,
  };
}

test('typed inputs and regression values are stored, read back and exported (CSV stays formula-safe)', async () => {
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000 });
  assert.equal(log.record(typedRequest(1)), true);
  assert.equal(await log.flush(), 2);
  const rows = readLog(dir);
  assert.deepEqual(
    rows.map((r) => [r.inputs, r.label, r.probabilities, r.values]),
    [
      [{ city: '=cmd|calc', garden: true, rooms: 3, area: 72.5 }, null, null, [151.2]],
      [{ city: 'paris', garden: false, rooms: 4, area: null }, null, null, [99]],
    ],
  );
  const csv = collect();
  assert.equal(await exportPredictionLog(dir, 'csv', csv.out), 2);
  const records = parse(csv.text(), { columns: true }) as Record<string, string>[];
  assert.deepEqual(
    records.map((r) => [r.city, r.garden, r.rooms, r.area, r.label, r.values]),
    [
      ["'=cmd|calc", 'true', '3', '72.5', '', '[151.2]'],
      ['paris', 'false', '4', '', '', '[99]'],
    ],
  );
  const jsonl = collect();
  await exportPredictionLog(dir, 'jsonl', jsonl.out);
  assert.deepEqual(
    jsonl
      .text()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as PredictionLogEntry),
    rows,
  );
  await log.close();
});

test('a log file of the first schema is migrated: its rows stay, regression rows go in beside them', async () => {
  const dir = tempDir();
  const old = new Database(path.join(dir, PREDICTIONS_DB_FILE));
  // The schema as the server wrote it before typed signatures (migration 1 only).
  old.exec(`CREATE TABLE predictions (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, request_id TEXT NOT NULL, model TEXT NOT NULL,
    version INTEGER NOT NULL, row_index INTEGER NOT NULL, inputs TEXT NOT NULL, label TEXT NOT NULL, probabilities TEXT,
    latency_ms REAL NOT NULL);
    CREATE INDEX predictions_at ON predictions(at);
    CREATE TABLE input_fields (name TEXT PRIMARY KEY);
    INSERT INTO input_fields VALUES ('a');
    INSERT INTO predictions (at, request_id, model, version, row_index, inputs, label, probabilities, latency_ms)
      VALUES (${T0}, 'old', 'iris', 1, 0, '{"a":1}', 'Setosa', '[1,0]', 2);
    PRAGMA user_version = 1;`);
  old.close();
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000 });
  log.record(typedRequest(5));
  await log.flush();
  await log.close();
  const rows = readLog(dir);
  assert.deepEqual(rows[0], {
    at: T0,
    requestId: 'old',
    model: 'iris',
    version: 1,
    inputs: { a: 1 },
    label: 'Setosa',
    probabilities: [1, 0],
    values: null,
    latencyMs: 2,
  });
  assert.deepEqual(
    rows.slice(1).map((r) => r.values),
    [[151.2], [99]],
  );
  const db = new Database(path.join(dir, PREDICTIONS_DB_FILE), { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), 3);
  db.close();
});
