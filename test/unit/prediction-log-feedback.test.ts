import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import type { LiveQuality } from '../../common/contract';
import {
  PREDICTIONS_DB_FILE,
  PredictionLog,
  type FeedbackBatch,
  type FeedbackKeys,
  type PredictionBatch,
} from '../../server/prediction-log';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plog-fb-'));
  dirs.push(dir);
  return dir;
}

/** One request of `labels.length` rows answered by `version` (or shadowed by it). */
function request(requestId: string, version: number, labels: string[], extra: Partial<PredictionBatch> = {}): PredictionBatch {
  return {
    at: Date.now() - 10_000,
    requestId,
    model: 'iris',
    version,
    features: ['a'],
    rows: labels.map((_, i) => i),
    labels,
    probabilities: null,
    nClasses: 0,
    latencyMs: 1,
    ...extra,
  };
}

test("shadow rows are stored as such; a label marks the champion's and the shadow's row; each version gets its quality", async () => {
  const dir = tempDir();
  const updates: LiveQuality[][] = [];
  // A long flush interval: the lookup must commit the queued rows itself.
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000, onQuality: (q) => updates.push(q) });
  try {
    log.record(request('r1', 1, ['A', 'B']));
    log.record(request('r1', 2, ['A', 'A'], { shadow: true }));
    const found = await log.lookupFeedback(keys(['r1', 1], ['r1', 2], ['nope', 0]));
    assert.deepEqual(
      [found.models, [...found.model], [...found.version]],
      [['iris'], [0, -1, -1], [1, 0, 0]],
      'the answer, not the shadow',
    );
    assert.deepEqual([...found.classification], [1, 0, 0]);
    assert.deepEqual([...found.requestRows], [0, 2, 0], 'the request has 2 rows, not 3; "nope" none');

    const at = found.at[0];
    const stored = await log.storeFeedback(Date.now(), labels(at, ['r1', 0, 'A'], ['r1', 1, 'A']));
    assert.deepEqual([...stored.accepted], [0, 1]);
    const byVersion = new Map(stored.qualities.map((q) => [q.version, q]));
    assert.equal(byVersion.get(1)!.classification!.accuracy, 0.5, 'the champion answered A, B');
    assert.equal(byVersion.get(2)!.classification!.accuracy, 1, 'the shadow answered A, A');
    assert.deepEqual(updates.at(-1), stored.qualities, 'onQuality heard it too');

    const conflict = await log.storeFeedback(Date.now(), labels(at, ['r1', 0, 'A'], ['r1', 1, 'B']));
    assert.deepEqual([...conflict.accepted], []);
    assert.deepEqual(conflict.conflicts, [{ index: 1, requestId: 'r1', row: 1, stored: 'A', byEntry: null }]);
    // Two labels for one row in one batch: the second names the first, and nothing is stored.
    const twice = await log.storeFeedback(Date.now(), labels(at, ['r1', 2, 'A'], ['r1', 2, 'B']));
    assert.deepEqual(twice.conflicts, [{ index: 1, requestId: 'r1', row: 2, stored: 'A', byEntry: 0 }]);
    assert.deepEqual([...twice.accepted], []);
  } finally {
    await log.close();
  }
  const db = new Database(path.join(dir, PREDICTIONS_DB_FILE), { readonly: true });
  assert.deepEqual(db.prepare('SELECT version, shadow FROM predictions ORDER BY id').raw(true).all(), [
    [1, 0],
    [1, 0],
    [2, 1],
    [2, 1],
  ]);
  db.close();

  // Opened again: the quality of both versions is computed from what is stored.
  const again: LiveQuality[][] = [];
  const reopened = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000, onQuality: (q, replace) => replace && again.push(q) });
  try {
    await waitUntil(() => again.length > 0);
    assert.deepEqual(again[0].map((q) => [q.version, q.labelled]).sort(), [
      [1, 2],
      [2, 2],
    ]);
  } finally {
    await reopened.close();
  }
});

test('retention deletes the labels of the predictions it deletes and computes the windows again', async () => {
  const dir = tempDir();
  const updates: { q: LiveQuality[]; replace: boolean }[] = [];
  const log = PredictionLog.open({
    dataDir: dir,
    flushIntervalMs: 20,
    maxAgeDays: 1,
    onQuality: (q, replace) => updates.push({ q, replace }),
  });
  try {
    const old = Date.now() - 2 * 86_400_000;
    log.record(request('old', 1, ['A'], { at: old }));
    log.record(request('new', 1, ['A']));
    const found = await log.lookupFeedback(keys(['old', 0], ['new', 0]));
    const stored = labels(0, ['old', 0, 'A'], ['new', 0, 'B']);
    stored.predictionAt.set(found.at);
    await log.storeFeedback(Date.now(), stored);
    // The timer's retention (at most once a second) runs after a write.
    log.record(request('later', 1, ['A']));
    await waitUntil(() => updates.some((u) => u.replace && u.q[0]?.labelled === 1));
    const last = updates.filter((u) => u.replace).at(-1)!;
    assert.equal(last.q[0].classification!.accuracy, 0, 'only the newer (wrong) label is left');
  } finally {
    await log.close();
  }
  const db = new Database(path.join(dir, PREDICTIONS_DB_FILE), { readonly: true });
  assert.deepEqual(db.prepare('SELECT request_id FROM feedback').pluck().all(), ['new']);
  db.close();
});

test('feedback while another process holds the write lock: a busy error (503), and the rows are found once it is released', async () => {
  const dir = tempDir();
  const log = PredictionLog.open({ dataDir: dir, flushIntervalMs: 60_000, onError: () => {} });
  const other = new Database(path.join(dir, PREDICTIONS_DB_FILE));
  try {
    other.exec('BEGIN IMMEDIATE');
    log.record(request('locked', 1, ['A']));
    await assert.rejects(log.lookupFeedback(keys(['locked', 0])), { code: 'PREDICTION_LOG_BUSY', status: 503 });
    other.exec('COMMIT');
    const found = await log.lookupFeedback(keys(['locked', 0]));
    assert.deepEqual([...found.model], [0]);
  } finally {
    other.close();
    await log.close();
  }
});

function keys(...pairs: [string, number][]): FeedbackKeys {
  return { requestIds: pairs.map((p) => p[0]), rows: Int32Array.from(pairs, (p) => p[1]) };
}

/** Class labels for (request id, row), all predicted at `at`. */
function labels(at: number, ...entries: [string, number, string][]): FeedbackBatch {
  return {
    ...keys(...entries.map(([id, row]): [string, number] => [id, row])),
    index: Int32Array.from(entries, (_, i) => i),
    labels: entries.map((e) => e[2]),
    values: new Float64Array(entries.length),
    predictionAt: new Float64Array(entries.length).fill(at),
  };
}

async function waitUntil(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
