import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelSignature } from '../../common/contract';
import type { Prediction } from '../../common/inference';
import { tabularInput } from '../../common/signature';
import type { InputBatch } from '../../common/tensor-layout';
import { Batcher } from '../../server/serving/batcher';

/** 2 float features in one input, 2 classes. */
const SIGNATURE: ModelSignature = {
  ...tabularInput('input', 'float32', [{ name: 'x0' }, { name: 'x1' }]),
  task: 'classification',
  target: 'y',
  labelOutput: 'label',
  labelKind: 'index',
  probabilitiesOutput: 'probabilities',
  classLabels: ['no', 'yes'],
};

const batchOf = (rows: Float32Array, n = rows.length / 2): InputBatch => ({ n, buffers: new Map([['input', rows]]) });
const rowsOf = (batch: InputBatch) => batch.buffers.get('input') as Float32Array;

/** A stand-in model with 2 features and 2 classes: class = (x0 > x1), probabilities = [x0, x1]. */
function fakeRun(calls: number[]) {
  return async (batch: InputBatch): Promise<Prediction> => {
    const { n } = batch;
    const rows = rowsOf(batch);
    calls.push(n);
    await new Promise((r) => setTimeout(r, 5));
    const classes = new Int32Array(n);
    const probabilities = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      classes[i] = rows[i * 2] > rows[i * 2 + 1] ? 1 : 0;
      probabilities[i * 2] = rows[i * 2];
      probabilities[i * 2 + 1] = rows[i * 2 + 1];
    }
    return { task: 'classification', classes, probabilities };
  };
}

test('concurrent requests share session runs and each gets exactly its own rows back', async () => {
  const calls: number[] = [];
  const b = new Batcher(fakeRun(calls), SIGNATURE, { maxRows: 1000, maxWaitMs: 0 });
  const requests = Array.from({ length: 50 }, (_, i) => {
    const n = 1 + (i % 3);
    const rows = new Float32Array(n * 2).map((_, k) => (k % 2 === 0 ? i : 100 - i) + k);
    return { n, rows, promise: b.submit(batchOf(rows, n)) };
  });
  const results = await Promise.all(requests.map((r) => r.promise));
  assert.ok(calls.length < 10, `50 requests in ${calls.length} runs`);
  assert.equal(
    calls.reduce((a, c) => a + c, 0),
    requests.reduce((a, r) => a + r.n, 0),
  );
  results.forEach((res, i) => {
    const { n, rows } = requests[i];
    assert.equal(res.task, 'classification');
    if (res.task !== 'classification') return;
    assert.equal(res.classes.length, n);
    assert.deepEqual(Array.from(res.probabilities!), Array.from(rows), `request ${i} got its own rows`);
    for (let k = 0; k < n; k++) assert.equal(res.classes[k], rows[k * 2] > rows[k * 2 + 1] ? 1 : 0);
  });
});

test('maxRows caps a batch; a request bigger than maxRows runs alone', async () => {
  const calls: number[] = [];
  const b = new Batcher(fakeRun(calls), SIGNATURE, { maxRows: 8, maxWaitMs: 0 });
  await Promise.all([...Array(10)].map(() => b.submit(batchOf(new Float32Array(6)))).concat([b.submit(batchOf(new Float32Array(40)))]));
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
    async (batch) => {
      await new Promise((r) => setTimeout(r, 2));
      if (fail) throw new Error('onnxruntime exploded');
      return { task: 'classification', classes: new Int32Array(batch.n), probabilities: new Float32Array(batch.n * 2) };
    },
    SIGNATURE,
    { maxRows: 100, maxWaitMs: 0 },
  );
  const first = await Promise.allSettled([b.submit(batchOf(new Float32Array(2))), b.submit(batchOf(new Float32Array(2)))]);
  assert.deepEqual(
    first.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  fail = false;
  assert.equal((await b.submit(batchOf(new Float32Array(2)))).task, 'classification');
});

test('maxWaitMs holds the first request for company', async () => {
  const calls: number[] = [];
  const b = new Batcher(fakeRun(calls), SIGNATURE, { maxRows: 100, maxWaitMs: 30 });
  const first = b.submit(batchOf(new Float32Array(2)));
  await new Promise((r) => setTimeout(r, 10));
  const second = b.submit(batchOf(new Float32Array(2)));
  await Promise.all([first, second]);
  assert.deepEqual(calls, [2]);
});

test('per-column inputs of mixed types are joined row by row, and regression values sliced per request', async () => {
  const signature: ModelSignature = {
    schema: 2,
    inputs: [
      { name: 'city', type: 'string', width: 1, rank: 2 },
      { name: 'rooms', type: 'int64', width: 1, rank: 1 },
    ],
    features: [
      { name: 'city', type: 'string', input: 'city', column: 0, categories: ['a', 'b'] },
      { name: 'rooms', type: 'int64', input: 'rooms', column: 0 },
    ],
    task: 'regression',
    targets: ['price', 'rent'],
    valueOutput: 'variable',
  };
  const seen: InputBatch[] = [];
  // value = rooms for price, the city's length for rent: each request must get back what it sent.
  const b = new Batcher(
    async (batch) => {
      seen.push(batch);
      const cities = batch.buffers.get('city') as string[];
      const rooms = batch.buffers.get('rooms') as BigInt64Array;
      const values = new Float32Array(batch.n * 2);
      for (let i = 0; i < batch.n; i++) [values[i * 2], values[i * 2 + 1]] = [Number(rooms[i]), cities[i].length];
      return { task: 'regression', values };
    },
    signature,
    { maxRows: 100, maxWaitMs: 0 },
  );
  const request = (cities: string[], rooms: number[]) =>
    b.submit({
      n: cities.length,
      buffers: new Map<string, string[] | BigInt64Array>([
        ['city', cities],
        ['rooms', BigInt64Array.from(rooms.map(BigInt))],
      ]),
    });
  const [one, two] = await Promise.all([request(['a', 'bb'], [1, 2]), request(['ccc'], [7])]);
  assert.equal(seen.length, 1, 'one run for both');
  assert.deepEqual(seen[0].buffers.get('city'), ['a', 'bb', 'ccc']);
  assert.deepEqual(Array.from(seen[0].buffers.get('rooms') as BigInt64Array), [1n, 2n, 7n]);
  assert.ok(one.task === 'regression' && two.task === 'regression');
  assert.deepEqual(Array.from(one.values), [1, 1, 2, 2]);
  assert.deepEqual(Array.from(two.values), [7, 3]);
});
