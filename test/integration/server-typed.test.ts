// The server with typed signatures: real ONNX models (test/helpers/typed-models.ts) registered in a
// real registry and served on 127.0.0.1 — /predict, OIP, strict and unseen categories, drift and
// metrics for regression and mixed-type classification, the prediction log and its export.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { MonitoringSnapshot, PredictionLogEntry } from '../../common/contract';
import { mlops, needs, tempDataDir } from '../helpers/cli';
import { readLog } from '../helpers/prediction-log';
import { post, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { grade, housePrice, intLabelClassifier, mixedClassifier, registerTyped, regressionModel } from '../helpers/typed-models';

function servedModel(name: string, build: typeof regressionModel): { server: TestServer; dir: string } {
  const ctx = { dir: '', server: undefined as unknown as TestServer };
  before(async () => {
    ctx.dir = tempDataDir();
    await registerTyped(ctx.dir, name, build());
    ctx.server = await startTestServer(ctx.dir);
    await waitFor('the model to be served', async () => ((await fetch(`${ctx.server.url}/readyz`)).ok ? true : undefined));
  });
  after(() => ctx.server.close());
  return ctx;
}

async function metrics(server: TestServer): Promise<string> {
  return (await fetch(`${server.url}/metrics`)).text();
}

async function monitoring(server: TestServer): Promise<MonitoringSnapshot> {
  return (await (await fetch(`${server.url}/api/monitoring`, { headers: server.apiHeaders })).json()) as MonitoringSnapshot;
}

describe('a regression model with a string category', () => {
  const ctx = servedModel('houses', regressionModel);
  const house = { area: 50, age: 3, city: 'paris' };

  test('/predict answers the value per target; an unseen category is accepted and counted', async () => {
    const res = await post(`${ctx.server.url}/predict`, [house, { ...house, city: 'lyon' }, { ...house, city: 'nice' }]);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, [{ price: housePrice(house) }, { price: housePrice({ ...house, city: 'lyon' }) }, { price: 107 }]);
    assert.match(await metrics(ctx.server), /mlops_unseen_categories_total\{model="houses",version="1",feature="city"\} 1/);
    const null_ = await post(`${ctx.server.url}/predict`, [{ ...house, age: null }]);
    assert.equal(null_.status, 200, 'age is nullable');
  });

  test('a wrong type per field gets a 400 naming the row, the field, the type expected and what was sent', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...house, area: '50' }, /row 1: field 'area' must be a finite number, got the string "50"/],
      [{ ...house, area: null }, /row 1: field 'area' must be a finite number, got null/],
      [{ ...house, city: 5 }, /row 1: field 'city' must be a string, got 5/],
      [{ ...house, city: true }, /row 1: field 'city' must be a string, got true/],
    ];
    for (const [record, error] of cases) {
      const res = await post(`${ctx.server.url}/predict`, [house, record]);
      assert.equal(res.status, 400);
      assert.match((res.body as { error: string }).error, error);
    }
  });

  test('OIP metadata and infer carry the real datatypes; inputs by model input, by feature, or mixed', async () => {
    const meta = (await (await fetch(`${ctx.server.url}/v2/models/houses`)).json()) as Record<string, unknown>;
    assert.deepEqual(meta.inputs, [
      { name: 'numbers', datatype: 'FP32', shape: [-1, 2] },
      { name: 'city', datatype: 'BYTES', shape: [-1, 1] },
    ]);
    assert.deepEqual(meta.outputs, [{ name: 'variable', datatype: 'FP32', shape: [-1, 1] }]);
    const infer = (inputs: unknown[]) => post(`${ctx.server.url}/v2/models/houses/infer`, { inputs });
    const prices = [housePrice(house), housePrice({ ...house, city: 'lyon' })];
    const expected = [{ name: 'variable', datatype: 'FP32', shape: [2, 1], data: prices }];
    const city = { name: 'city', shape: [2, 1], datatype: 'BYTES', data: ['paris', 'lyon'] };
    const byInput = await infer([
      {
        name: 'numbers',
        shape: [2, 2],
        datatype: 'FP32',
        data: [
          [50, 3],
          [50, 3],
        ],
      },
      city,
    ]);
    assert.equal(byInput.status, 200, JSON.stringify(byInput.body));
    assert.deepEqual((byInput.body as { outputs: unknown }).outputs, expected);
    const byFeature = await infer([
      { name: 'area', shape: [2], datatype: 'FP32', data: [50, 50] },
      { name: 'age', shape: [2, 1], datatype: 'FP64', data: [3, 3] },
      { ...city, shape: [2] },
    ]);
    assert.deepEqual((byFeature.body as { outputs: unknown }).outputs, expected);
    const numbers = { name: 'numbers', shape: [2, 2], datatype: 'FP32', data: [50, 3, 50, 3] };
    const wrongType = await infer([numbers, { ...city, datatype: 'FP32' }]);
    assert.equal(wrongType.status, 400);
    const error = /inputs\[1\] "city": datatype FP32 does not fit a string input \(send BYTES\)/;
    assert.match((wrongType.body as { error: string }).error, error);
  });

  test('drift compares predictions with the training target; a prediction histogram, no per-class counter', async () => {
    const m = await monitoring(ctx.server);
    const [price] = m.drift!.targets!;
    assert.equal(price.name, 'price');
    assert.equal(price.quantiles.length, 9);
    assert.ok(price.psi >= 0 && price.ks >= 0 && price.mean > 0, JSON.stringify(price));
    assert.equal(m.drift!.classes, null);
    const city = m.drift!.features.find((f) => f.name === 'city')!;
    assert.ok(city.kind === 'categorical' && city.unseenShare > 0, JSON.stringify(city));
    const text = await metrics(ctx.server);
    assert.match(text, /mlops_prediction_value_bucket\{le="\d[^"]*",model="houses",version="1",target="price"\} \d+/);
    assert.match(text, /mlops_drift_prediction_psi\{model="houses",version="1",target="price"\}/);
    assert.match(text, /mlops_drift_feature_unseen_share\{model="houses",version="1",feature="city"\} 0\.\d+/);
    assert.doesNotMatch(text, /mlops_predictions_total\{/);
  });

  const promtool = needs(spawnSync('promtool', ['--version']).status === 0, 'promtool (apt-get install prometheus)');
  test('the regression and categorical metrics pass promtool check metrics', { skip: promtool }, async () => {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: await metrics(ctx.server), encoding: 'utf8' });
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'promtool reports nothing');
    assert.equal(r.status, 0);
  });

  test('the prediction log keeps typed inputs and the predicted value; mlops logs export writes them', async () => {
    const entries = await waitFor('logged rows', () => {
      const rows = readLog(ctx.dir).filter((r) => r.model === 'houses');
      return rows.length >= 4 ? rows : undefined;
    });
    const nice = entries.find((e) => e.inputs.city === 'nice')!;
    assert.deepEqual(nice.inputs, { area: 50, age: 3, city: 'nice' });
    assert.deepEqual([nice.label, nice.values], [null, [107]]);
    assert.equal(entries.find((e) => e.inputs.age === null)?.values?.length, 1);
    const jsonl = mlops(ctx.dir, ['logs', 'export', '--format', 'jsonl']);
    assert.equal(jsonl.code, 0, jsonl.stderr);
    const exported = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as PredictionLogEntry);
    assert.ok(exported.some((e) => e.inputs.city === 'nice' && e.values?.[0] === 107));
  });
});

describe('a mixed-type classifier with per-column inputs and string labels', () => {
  const ctx = servedModel('mixed', mixedClassifier);
  const dear = { length: 5, rooms: 2, garden: true, color: 'blue' };
  const cheap = { length: 1, rooms: 1, garden: false, color: 'red' };

  test('/predict validates every type and answers the label', async () => {
    const res = await post(`${ctx.server.url}/predict?probabilities=true`, [dear, cheap]);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const body = res.body as { grade: string; probabilities: Record<string, number> }[];
    assert.deepEqual(
      body.map((r) => r.grade),
      [grade(dear), grade(cheap)],
    );
    assert.deepEqual(
      body.map((r) => r.grade),
      ['dear', 'cheap'],
    );
    assert.ok(body[0].probabilities.dear > 0.9);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...dear, rooms: 2.5 }, /row 0: field 'rooms' must be a whole number, got 2.5/],
      [{ ...dear, rooms: '2' }, /row 0: field 'rooms' must be a whole number, got the string "2"/],
      [{ ...dear, garden: 'yes' }, /row 0: field 'garden' must be a boolean \(true or false\), got the string "yes"/],
      [{ ...dear, garden: 1 }, /row 0: field 'garden' must be a boolean \(true or false\), got 1/],
      [{ ...dear, color: 'green' }, /row 0: field 'color' must be one of "red", "blue", got the string "green"/],
      [{ ...dear, length: true }, /row 0: field 'length' must be a finite number, got true/],
    ];
    for (const [record, error] of cases) {
      const r = await post(`${ctx.server.url}/predict`, [record]);
      assert.equal(r.status, 400, JSON.stringify(record));
      assert.match((r.body as { error: string }).error, error);
    }
  });

  test('OIP per-column inputs with their own datatypes; BYTES labels and FP32 probabilities', async () => {
    const meta = (await (await fetch(`${ctx.server.url}/v2/models/mixed`)).json()) as Record<string, unknown>;
    assert.deepEqual(
      (meta.inputs as { datatype: string }[]).map((i) => i.datatype),
      ['FP32', 'INT64', 'BOOL', 'BYTES'],
    );
    assert.deepEqual(meta.outputs, [
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
    ]);
    const inputs = [
      { name: 'length', shape: [2, 1], datatype: 'FP32', data: [5, 1] },
      { name: 'rooms', shape: [2, 1], datatype: 'INT64', data: [2, 1] },
      { name: 'garden', shape: [2, 1], datatype: 'BOOL', data: [true, false] },
      { name: 'color', shape: [2, 1], datatype: 'BYTES', data: ['blue', 'red'] },
    ];
    const res = await post(`${ctx.server.url}/v2/models/mixed/infer`, { id: 'x1', inputs });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { id, outputs } = res.body as { id: string; outputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[] };
    assert.equal(id, 'x1');
    assert.deepEqual(outputs[0], { name: 'label', datatype: 'BYTES', shape: [2], data: ['dear', 'cheap'] });
    assert.deepEqual([outputs[1].name, outputs[1].datatype, outputs[1].shape], ['probabilities', 'FP32', [2, 2]]);
    const infer = (tensors: unknown[]) => post(`${ctx.server.url}/v2/models/mixed/infer`, { inputs: tensors });
    const bad = await infer([inputs[0], { ...inputs[1], datatype: 'FP32' }, inputs[2], inputs[3]]);
    assert.equal(bad.status, 400);
    assert.match((bad.body as { error: string }).error, /inputs\[1\] "rooms": datatype FP32 does not fit a int64 input \(send INT64\)/);
    const strict = await infer([...inputs.slice(0, 3), { ...inputs[3], data: ['red', 'pink'] }]);
    assert.equal(strict.status, 400);
    const unknownColor = /inputs\[3\] "color"\.data\[1\] \(row 1, 'color'\) must be one of "red", "blue", got the string "pink"/;
    assert.match((strict.body as { error: string }).error, unknownColor);
  });

  test('/docs and the sample are typed from the signature, and the sample predicts', async () => {
    type Body = { content: Record<string, { schema: { items: { properties: object } } }> };
    const spec = (await (await fetch(`${ctx.server.url}/docs/json`)).json()) as { paths: Record<string, { post: { requestBody: Body } }> };
    const properties = spec.paths['/predict'].post.requestBody.content['application/json'].schema.items.properties;
    assert.deepEqual(properties, {
      length: { type: 'number', format: 'float', description: 'seen in training: 0 … 10' },
      rooms: { type: 'integer', format: 'int64', description: 'seen in training: 1 … 5' },
      garden: {
        type: 'boolean',
        description: 'categories seen in training: false, true (another value is accepted and counted as unseen)',
      },
      color: { type: 'string', enum: ['red', 'blue'], description: 'categories seen in training: red, blue' },
    });
    const url = `${ctx.server.url}/api/models/mixed/sample?rows=1`;
    const sample = (await (await fetch(url, { headers: ctx.server.apiHeaders })).json()) as unknown[];
    assert.deepEqual(sample, [{ length: 5, rooms: 3, garden: false, color: 'red' }]);
    assert.equal((await post(`${ctx.server.url}/predict`, sample)).status, 200);
  });

  test('mlops models show prints the typed signature: inputs, feature types, categories, the task', () => {
    const r = mlops(ctx.dir, ['models', 'show', 'mixed/1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^input length float32 \[N, 1\]: length float32 \[0, 10\]$/m);
    assert.match(r.stdout, /^input rooms int64 \[N, 1\]: rooms int64 \[1, 5\]$/m);
    assert.match(r.stdout, /^input color string \[N, 1\]: color string \{red, blue\} strict$/m);
    assert.match(r.stdout, /^predicts \(classification\) grade: cheap, dear$/m);
  });

  test('classification monitoring: predicted classes counted, categorical drift by category shares', async () => {
    const text = await metrics(ctx.server);
    assert.match(text, /mlops_predictions_total\{model="mixed",version="1",class="dear"\} [1-9]/);
    const m = await monitoring(ctx.server);
    const color = m.drift!.features.find((f) => f.name === 'color')!;
    assert.ok(color.kind === 'categorical');
    assert.equal(color.unseenShare, 0, 'strict: nothing unseen gets in');
    assert.deepEqual(color.categories, ['red', 'blue']);
    assert.ok(m.drift!.classes!.labels.includes('dear'));
  });
});

describe('a classifier with int64 class values', () => {
  const ctx = servedModel('digits', intLabelClassifier);

  test('/predict answers the class as a number; OIP says INT64 and sends numbers', async () => {
    const res = await post(`${ctx.server.url}/predict`, [{ x: 9 }, { x: 1 }]);
    assert.deepEqual(res.body, [{ digit: 7 }, { digit: 3 }]);
    const probs = await post(`${ctx.server.url}/predict?probabilities=true`, [{ x: 9 }]);
    const [answer] = probs.body as { digit: number; probabilities: Record<string, number> }[];
    assert.equal(answer.digit, 7);
    assert.deepEqual(Object.keys(answer.probabilities), ['3', '7']);
    const meta = (await (await fetch(`${ctx.server.url}/v2/models/digits`)).json()) as { outputs: unknown[] };
    assert.deepEqual(meta.outputs[0], { name: 'label', datatype: 'INT64', shape: [-1] });
    const infer = await post(`${ctx.server.url}/v2/models/digits/infer`, {
      inputs: [{ name: 'x', shape: [2, 1], datatype: 'FP32', data: [9, 1] }],
      outputs: [{ name: 'label' }],
    });
    assert.deepEqual((infer.body as { outputs: unknown }).outputs, [{ name: 'label', datatype: 'INT64', shape: [2], data: [7, 3] }]);
  });
});
