import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { tempDataDir } from '../helpers/cli';
import { SAMPLE, startTestServer, trainedServer } from '../helpers/server';
import { mixedClassifier, registerTyped } from '../helpers/typed-models';

// Bounded for CI; MLOPS_FUZZ_RUNS raises it for a longer soak with the same code.
const RUNS = Number(process.env.MLOPS_FUZZ_RUNS ?? 1500);
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

const anyJson = fc.jsonValue({ maxDepth: 6 });
const number = fc.oneof(fc.double({ noNaN: false }), fc.integer(), fc.constantFrom(1e308, -1e308, 1e39, 5e-324, 0, -0));
const wrongValue = fc.oneof(
  fc.string(),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '', '\u0000', '𝟙'),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);
const record = fc.record(Object.fromEntries(FEATURES.map((f) => [f, fc.oneof({ weight: 4, arbitrary: number }, wrongValue)])), {
  requiredKeys: [],
});
const recordWithExtras = fc
  .tuple(record, fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 2 }))
  .map(([r, extra]) => ({ ...extra, ...r }));
const predictBody = fc.oneof(
  { weight: 3, arbitrary: fc.array(recordWithExtras, { minLength: 0, maxLength: 5 }).map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  // truncated, duplicated keys, deep nesting, unicode keys
  { weight: 1, arbitrary: fc.tuple(fc.constant(JSON.stringify(SAMPLE)), fc.nat(120)).map(([s, cut]) => s.slice(0, cut)) },
  { weight: 1, arbitrary: fc.constant('[{"sepal_length":1,"sepal_length":"x","sepal_width":1,"petal_length":1,"petal_width":1}]') },
  { weight: 1, arbitrary: fc.nat(3000).map((d) => '['.repeat(d) + ']'.repeat(d)) },
);
const tensor = fc.record({
  name: fc.oneof(fc.constantFrom('input', ...FEATURES), fc.string({ maxLength: 10 })),
  shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 6 }), { maxLength: 3 }), anyJson),
  datatype: fc.oneof(fc.constantFrom('FP32', 'FP64', 'INT64', 'BYTES', 'BOOL'), fc.string({ maxLength: 5 })),
  data: fc.oneof(fc.array(fc.oneof(number, wrongValue), { maxLength: 30 }), anyJson),
});
const inferBody = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          inputs: fc.array(tensor, { maxLength: 5 }),
          outputs: fc.option(fc.array(fc.record({ name: fc.string({ maxLength: 15 }) }), { maxLength: 3 })),
        },
        { requiredKeys: [] },
      )
      .map((b) => JSON.stringify(b)),
  },
  { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
);
const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', '') },
);

describe('fuzzed bodies (fast-check) against the real server', () => {
  const ctx = trainedServer();

  for (const [route, body] of [
    ['/predict', predictBody],
    ['/v2/models/iris/infer', inferBody],
  ] as const) {
    test(`${RUNS} bodies to ${route}: only 2xx with correct predictions or 4xx with a message; zero 5xx`, async () => {
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(body, contentType, async (payload, type) => {
          const res = await fetch(`${ctx.server.url}${route}`, {
            method: 'POST',
            headers: type ? { 'content-type': type } : {},
            body: payload,
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const text = await res.text();
          if (res.status >= 500) throw new Error(`${res.status} for ${type} ${payload.slice(0, 300)}: ${text}`);
          if (res.status >= 400) {
            const parsed = JSON.parse(text) as { error?: unknown };
            if (typeof parsed.error !== 'string' || parsed.error.length === 0) throw new Error(`4xx without a message: ${text}`);
            return;
          }
          const out = JSON.parse(text) as unknown;
          if (route === '/predict') {
            const rows = JSON.parse(payload) as unknown[];
            assert.ok(Array.isArray(out) && out.length === rows.length);
            for (const r of out as { variety: string }[]) assert.ok(['Setosa', 'Versicolor', 'Virginica'].includes(r.variety));
          } else {
            assert.equal((out as { model_name: string }).model_name, 'iris');
          }
        }),
        { numRuns: RUNS, seed: 20261127 },
      );
      assert.ok((statuses.get(400) ?? 0) > RUNS / 4, JSON.stringify([...statuses]));
    });
  }

  test('still up, still right, memory bounded after the fuzzing', async () => {
    const res = await fetch(`${ctx.server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(SAMPLE),
    });
    assert.deepEqual(await res.json(), [{ variety: 'Virginica' }, { variety: 'Versicolor' }]);
    // The server shares this process: its heap after thousands of bad requests stays modest.
    assert.ok(process.memoryUsage().heapUsed < 400 * 1024 * 1024, `heap ${process.memoryUsage().heapUsed}`);
  });
});

describe('fuzzed typed records and tensors against a mixed-type model', () => {
  const ctx = { url: '', close: async () => {} };
  before(async () => {
    const dir = tempDataDir();
    await registerTyped(dir, 'mixed', mixedClassifier());
    const server = await startTestServer(dir);
    Object.assign(ctx, { url: server.url, close: () => server.close() });
  });
  after(() => ctx.close());
  const MIXED = ['length', 'rooms', 'garden', 'color'];
  const typedValue = fc.oneof(
    number,
    wrongValue,
    fc.constantFrom('red', 'blue', 'green', 2 ** 53, -(2 ** 31) - 1, true, false),
    fc.integer({ min: -10, max: 10 }),
  );
  const column = fc.record({
    name: fc.constantFrom(...MIXED, 'x'),
    shape: fc.constantFrom([1], [1, 1], [2, 1], [1, 2]),
    datatype: fc.constantFrom('FP32', 'FP64', 'INT64', 'INT32', 'BOOL', 'BYTES', 'UINT8'),
    data: fc.array(typedValue, { maxLength: 3 }),
  });
  const validRecord = fc.record({
    length: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    rooms: fc.integer(),
    garden: fc.boolean(),
    color: fc.constantFrom('red', 'blue'),
  });
  const typedRecord = fc.oneof(validRecord, fc.record(Object.fromEntries(MIXED.map((f) => [f, typedValue])), { requiredKeys: [] }));
  // Valid per-column tensors, then one of them possibly broken.
  const validColumns = fc.tuple(fc.array(validRecord, { minLength: 1, maxLength: 3 }), fc.option(column)).map(([rows, broken]) => {
    const types = { length: 'FP32', rooms: 'INT64', garden: 'BOOL', color: 'BYTES' } as Record<string, string>;
    const inputs = MIXED.map((name) => ({
      name,
      shape: [rows.length, 1],
      datatype: types[name],
      data: rows.map((r) => (r as Record<string, unknown>)[name]),
    }));
    if (broken) inputs[MIXED.indexOf(broken.name) >= 0 ? MIXED.indexOf(broken.name) : 0] = broken as unknown as (typeof inputs)[0];
    return inputs;
  });
  const bodies = [
    ['/predict', fc.array(typedRecord, { minLength: 1, maxLength: 4 }).map((b) => JSON.stringify(b))],
    [
      '/v2/models/mixed/infer',
      fc.oneof(validColumns, fc.array(column, { minLength: 1, maxLength: 5 })).map((inputs) => JSON.stringify({ inputs })),
    ],
  ] as const;
  for (const [route, body] of bodies) {
    test(`${Math.round(RUNS / 3)} typed bodies to ${route}: 2xx with a grade or 4xx with a message; zero 5xx`, async () => {
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(body, async (payload) => {
          const res = await fetch(`${ctx.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const text = await res.text();
          if (res.status >= 500) throw new Error(`${res.status} for ${payload.slice(0, 300)}: ${text}`);
          if (res.status >= 400) {
            assert.ok((JSON.parse(text) as { error?: string }).error, text);
            return;
          }
          if (route === '/predict')
            for (const r of JSON.parse(text) as { grade: string }[]) assert.ok(['cheap', 'dear'].includes(r.grade), text);
        }),
        { numRuns: Math.round(RUNS / 3), seed: 20261202 },
      );
      assert.ok((statuses.get(200) ?? 0) > 0 && (statuses.get(400) ?? 0) > 0, JSON.stringify([...statuses]));
    });
  }
});
