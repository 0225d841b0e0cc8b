import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import type { LiveQuality } from '../../common/contract';
import { PREDICTIONS_DB_FILE, PredictionLog, type PredictionBatch } from '../../server/prediction-log';

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
    const found = await log.lookupFeedback([
      { requestId: 'r1', row: 1 },
      { requestId: 'r1', row: 2 },
      { requestId: 'nope', row: 0 },
    ]);
    assert.deepEqual(
      found[0].matches.map((m) => [m.version, m.shadow, m.predicted]),
      [
        [1, false, 'B'],
        [2, true, 'A'],
      ],
    );
    assert.deepEqual([found[1].matches, found[1].requestRows], [[], 2], 'the request has 2 rows, not 3');
    assert.deepEqual([found[2].matches, found[2].requestRows], [[], 0]);

    const at = found[0].matches[0].at;
    const stored = await log.storeFeedback(Date.now(), [
      { index: 0, requestId: 'r1', row: 0, actual: 'A', predictionAt: at },
      { index: 1, requestId: 'r1', row: 1, actual: 'A', predictionAt: at },
    ]);
    assert.deepEqual(stored.accepted, [0, 1]);
    const byVersion = new Map(stored.qualities.map((q) => [q.version, q]));
    assert.equal(byVersion.get(1)!.classification!.accuracy, 0.5, 'the champion answered A, B');
    assert.equal(byVersion.get(2)!.classification!.accuracy, 1, 'the shadow answered A, A');
    assert.deepEqual(updates.at(-1), stored.qualities, 'onQuality heard it too');

    const conflict = await log.storeFeedback(Date.now(), [
      { index: 0, requestId: 'r1', row: 0, actual: 'A', predictionAt: at },
      { index: 1, requestId: 'r1', row: 1, actual: 'B', predictionAt: at },
    ]);
    assert.deepEqual(conflict.accepted, []);
    assert.deepEqual(conflict.conflicts, [{ index: 1, requestId: 'r1', row: 1, stored: 'A' }]);
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
    const found = await log.lookupFeedback([
      { requestId: 'old', row: 0 },
      { requestId: 'new', row: 0 },
    ]);
    await log.storeFeedback(Date.now(), [
      { index: 0, requestId: 'old', row: 0, actual: 'A', predictionAt: found[0].matches[0].at },
      { index: 1, requestId: 'new', row: 0, actual: 'B', predictionAt: found[1].matches[0].at },
    ]);
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

async function waitUntil(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
