import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Coalescer } from '../../extension/coalescer';

/** A task whose runs finish only when the test says so, recording how many overlap. */
function gatedTask() {
  const gates: (() => void)[] = [];
  const state = { runs: 0, active: 0, maxActive: 0, finishedOrder: [] as number[] };
  const task = () => {
    const n = ++state.runs;
    state.active++;
    state.maxActive = Math.max(state.maxActive, state.active);
    return new Promise<void>((resolve) =>
      gates.push(() => {
        state.active--;
        state.finishedOrder.push(n);
        resolve();
      }),
    );
  };
  const open = async () => {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  return { task, state, open };
}

test('a burst of refresh requests costs two runs, never overlapping, finishing in order', async () => {
  const { task, state, open } = gatedTask();
  const c = new Coalescer(task);
  const first = c.request();
  const burst = [c.request(), c.request(), c.request(), c.request()]; // four triggers while the first run is in flight
  assert.equal(state.runs, 1);
  let burstDone = false;
  void Promise.all(burst).then(() => (burstDone = true));
  await open();
  await first;
  assert.equal(state.runs, 2, 'one more run for the whole burst');
  assert.equal(burstDone, false, 'the burst waits for a run that started after it');
  await open();
  await Promise.all(burst);
  assert.equal(state.runs, 2);
  assert.equal(state.maxActive, 1);
  assert.deepEqual(state.finishedOrder, [1, 2]);
});

test('once idle, a request runs at once; a failing run does not block the next', async () => {
  let calls = 0;
  const c = new Coalescer(async () => {
    calls++;
    if (calls === 1) throw new Error('server down');
  });
  await c.request();
  await c.request();
  assert.equal(calls, 2);
});
