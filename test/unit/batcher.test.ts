import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batcher } from '../../server/batcher';
import type { Prediction } from '../../server/inference';

/** A stand-in model with 2 features and 2 classes: class = (x0 > x1), probabilities = [x0, x1]. */
function fakeRun(calls: number[]) {
  return async (rows: Float32Array, n: number): Promise<Prediction> => {
    calls.push(n);
    await new Promise((r) => setTimeout(r, 5));
    const classes = new Int32Array(n);
    const probabilities = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      classes[i] = rows[i * 2] > rows[i * 2 + 1] ? 1 : 0;
      probabilities[i * 2] = rows[i * 2];
      probabilities[i * 2 + 1] = rows[i * 2 + 1];
    }
    return { classes, probabilities };
  };
}

test('concurrent requests share session runs and each gets exactly its own rows back', async () => {
  const calls: number[] = [];
  const b = new Batcher(fakeRun(calls), 2, 2, { maxRows: 1000, maxWaitMs: 0 });
  const requests = Array.from({ length: 50 }, (_, i) => {
    const n = 1 + (i % 3);
    const rows = new Float32Array(n * 2).map((_, k) => (k % 2 === 0 ? i : 100 - i) + k);
    return { n, rows, promise: b.submit(rows, n) };
  });
  const results = await Promise.all(requests.map((r) => r.promise));
  assert.ok(calls.length < 10, `50 requests in ${calls.length} runs`);
  assert.equal(
    calls.reduce((a, c) => a + c, 0),
    requests.reduce((a, r) => a + r.n, 0),
  );
  results.forEach((res, i) => {
    const { n, rows } = requests[i];
    assert.equal(res.classes.length, n);
    assert.deepEqual(Array.from(res.probabilities!), Array.from(rows), `request ${i} got its own rows`);
    for (let k = 0; k < n; k++) assert.equal(res.classes[k], rows[k * 2] > rows[k * 2 + 1] ? 1 : 0);
  });
});

test('maxRows caps a batch; a request bigger than maxRows runs alone', async () => {
  const calls: number[] = [];
  const b = new Batcher(fakeRun(calls), 2, 2, { maxRows: 8, maxWaitMs: 0 });
  await Promise.all([...Array(10)].map(() => b.submit(new Float32Array(6), 3)).concat([b.submit(new Float32Array(40), 20)]));
  assert.ok(
    calls.every((n) => n <= 8 || n === 20),
    JSON.stringify(calls),
  );
  assert.ok(calls.includes(20));
  assert.equal(
    calls.reduce((a, c) => a + c, 0),
    50,
  );
});

test('a failing run rejects every request of its batch, and the next batch runs', async () => {
  let fail = true;
  const b = new Batcher(
    async (rows, n) => {
      await new Promise((r) => setTimeout(r, 2));
      if (fail) throw new Error('onnxruntime exploded');
      return { classes: new Int32Array(n), probabilities: new Float32Array(n * 2) };
    },
    2,
    2,
    { maxRows: 100, maxWaitMs: 0 },
  );
  const first = await Promise.allSettled([b.submit(new Float32Array(2), 1), b.submit(new Float32Array(2), 1)]);
  assert.deepEqual(
    first.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  fail = false;
  assert.equal((await b.submit(new Float32Array(2), 1)).classes.length, 1);
});

test('maxWaitMs holds the first request for company', async () => {
  const calls: number[] = [];
  const b = new Batcher(fakeRun(calls), 2, 2, { maxRows: 100, maxWaitMs: 30 });
  const first = b.submit(new Float32Array(2), 1);
  await new Promise((r) => setTimeout(r, 10));
  const second = b.submit(new Float32Array(2), 1);
  await Promise.all([first, second]);
  assert.deepEqual(calls, [2]);
});
