import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import parsePrometheus from 'parse-prometheus-text-format';
import { sampleRecords } from '../../server/serving/sample';
import { SAMPLE, post, trainedServer } from '../helpers/server';

const metricValue = async (url: string, name: string, labels: Record<string, string> = {}): Promise<number> => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const family = parsePrometheus(text).find((f) => f.name === name);
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return Number(sample?.value ?? sample?.count ?? NaN);
};

describe('prediction server on a model trained by the pipeline', () => {
  const ctx = trainedServer();

  test('the original curl sample returns two iris labels', async () => {
    const r = await post(`${ctx.server.url}/predict`, SAMPLE);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, [{ variety: 'Virginica' }, { variety: 'Versicolor' }]);
    assert.equal(r.headers.get('x-model-version'), 'iris/1');
    assert.match(r.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  test('probabilities on request', async () => {
    const r = await post(`${ctx.server.url}/predict?probabilities=true`, SAMPLE);
    const rows = r.body as { variety: string; probabilities: Record<string, number> }[];
    for (const row of rows) {
      const p = row.probabilities;
      assert.deepEqual(Object.keys(p), ['Setosa', 'Versicolor', 'Virginica']);
      assert.ok(Math.abs(p.Setosa + p.Versicolor + p.Virginica - 1) < 1e-5);
      assert.equal(Object.entries(p).sort((a, b) => b[1] - a[1])[0][0], row.variety);
    }
  });

  test('Open Inference Protocol: metadata, readiness, and infer agreeing with /predict in both tabular forms', async () => {
    assert.deepEqual(await (await fetch(`${ctx.server.url}/v2/health/ready`)).json(), { ready: true });
    const v2 = (await (await fetch(`${ctx.server.url}/v2`)).json()) as { name: string; extensions: unknown[] };
    assert.equal(v2.name, 'mlops-template');
    const meta = (await (await fetch(`${ctx.server.url}/v2/models/iris`)).json()) as {
      inputs: { name: string; shape: number[]; datatype: string }[];
      versions: string[];
    };
    assert.deepEqual(meta.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }]);
    assert.deepEqual(meta.versions, ['1']);
    assert.equal((await fetch(`${ctx.server.url}/v2/models/iris/versions/1/ready`)).status, 200);

    const rows = SAMPLE.map((r) => [r.sepal_length, r.sepal_width, r.petal_length, r.petal_width]);
    const tensor = await post(`${ctx.server.url}/v2/models/iris/infer`, {
      id: 'req-7',
      inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', data: rows }],
    });
    assert.equal(tensor.status, 200, JSON.stringify(tensor.body));
    const out = tensor.body as {
      id: string;
      model_name: string;
      model_version: string;
      outputs: { name: string; shape: number[]; data: unknown[] }[];
    };
    assert.equal(out.id, 'req-7');
    assert.equal(out.model_name, 'iris');
    assert.equal(out.model_version, '1');
    assert.deepEqual(out.outputs[0], { name: 'label', datatype: 'BYTES', shape: [2], data: ['Virginica', 'Versicolor'] });
    assert.deepEqual(out.outputs[1].shape, [2, 3]);

    const columns = await post(`${ctx.server.url}/v2/models/iris/versions/1/infer`, {
      parameters: { content_type: 'pd' },
      inputs: Object.keys(SAMPLE[0]).map((name) => ({
        name,
        shape: [2],
        datatype: 'FP64',
        data: SAMPLE.map((r) => r[name as keyof typeof r]),
      })),
      outputs: [{ name: 'label' }],
    });
    assert.equal(columns.status, 200, JSON.stringify(columns.body));
    assert.deepEqual((columns.body as typeof out).outputs, [
      { name: 'label', datatype: 'BYTES', shape: [2], data: ['Virginica', 'Versicolor'] },
    ]);
  });

  test('/docs/json is valid OpenAPI 3 carrying the signature; /docs serves Swagger UI', async () => {
    type Json = {
      content: Record<
        string,
        { schema: { items: { required: string[]; properties: Record<string, { enum?: string[] }> } }; example: unknown }
      >;
    };
    const spec = (await (await fetch(`${ctx.server.url}/docs/json`)).json()) as {
      paths: Record<string, { post: { requestBody: Json; responses: Record<string, Json> } }>;
    };
    await SwaggerParser.validate(structuredClone(spec) as unknown as Parameters<typeof SwaggerParser.validate>[0]);
    const body = spec.paths['/predict'].post.requestBody.content['application/json'];
    assert.deepEqual(body.schema.items.required, ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    // The example is built from the signature (no iris record in the server), and predicts.
    const served = ctx.server.holder.current()!.version.signature;
    assert.deepEqual(body.example, sampleRecords(served));
    assert.equal((await post(`${ctx.server.url}/predict`, body.example)).status, 200);
    assert.deepEqual(spec.paths['/predict'].post.responses['200'].content['application/json'].schema.items.properties.variety.enum, [
      'Setosa',
      'Versicolor',
      'Virginica',
    ]);
    for (const p of ['/v2/models/{name}/infer', '/metrics', '/healthz', '/readyz', '/api/models']) assert.ok(spec.paths[p], p);
    const ui = await fetch(`${ctx.server.url}/docs/`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger/i);
  });

  test('/metrics parses as Prometheus text and moves with predictions', async () => {
    const before = await metricValue(ctx.server.url, 'mlops_predictions_total', { class: 'Virginica' });
    await post(`${ctx.server.url}/predict`, [SAMPLE[0], SAMPLE[0], SAMPLE[0]]);
    assert.equal(await metricValue(ctx.server.url, 'mlops_predictions_total', { class: 'Virginica' }), before + 3);
    const text = await (await fetch(`${ctx.server.url}/metrics`)).text();
    const families = new Map(parsePrometheus(text).map((f) => [f.name, f]));
    const names = ['process_cpu_seconds_total', 'http_request_duration_seconds', 'mlops_inference_duration_seconds'];
    names.push('mlops_inference_batch_rows', 'mlops_model_info', 'mlops_model_training_metric');
    names.push('mlops_drift_feature_psi', 'mlops_drift_feature_ks', 'mlops_drift_class_js_distance');
    for (const name of names) {
      assert.ok(families.has(name), `${name} exported`);
    }
    const info = families.get('mlops_model_info')!.metrics[0].labels!;
    assert.equal(info.model, 'iris');
    assert.equal(info.version, '1');
    assert.match(info.sha256, /^[0-9a-f]{64}$/);
    assert.ok(info.git_branch && info.git_head);
    // The parser keeps histogram buckets but not their labels: read the _count series from the text.
    assert.equal(families.get('http_request_duration_seconds')!.type, 'HISTOGRAM');
    const count = /^http_request_duration_seconds_count\{route="\/predict",method="POST",status_code="200"\} (\d+)$/m.exec(text);
    assert.ok(Number(count?.[1]) >= 1, 'request durations by route, method and status');
    assert.ok((await metricValue(ctx.server.url, 'mlops_model_training_metric', { metric: 'accuracy' })) >= 0.9);
  });

  test('drift gauges move when shifted inputs are sent', async () => {
    const psi = () => metricValue(ctx.server.url, 'mlops_drift_feature_psi', { feature: 'petal_length' });
    // Rows like the training data first, then the same rows with petal_length shifted far out.
    const normal = Array.from({ length: 200 }, (_, i) => ({
      sepal_length: 5 + (i % 20) / 10,
      sepal_width: 3,
      petal_length: 1 + (i % 60) / 10,
      petal_width: 0.2 + (i % 24) / 10,
    }));
    await post(`${ctx.server.url}/predict`, normal);
    await post(`${ctx.server.url}/predict`, normal);
    await post(`${ctx.server.url}/predict`, normal);
    await post(`${ctx.server.url}/predict`, normal);
    await post(`${ctx.server.url}/predict`, normal);
    const calm = await psi();
    await post(
      `${ctx.server.url}/predict`,
      normal
        .map((r) => ({ ...r, petal_length: r.petal_length + 6 }))
        .concat(normal.map((r) => ({ ...r, petal_length: r.petal_length + 6 }))),
    );
    const shifted = await psi();
    assert.ok(shifted > calm + 0.25 && shifted > 0.25, `PSI ${calm} → ${shifted}`);
    const res = await fetch(`${ctx.server.url}/api/monitoring`, { headers: ctx.server.apiHeaders });
    const monitoring = (await res.json()) as { drift: { windowRows: number; features: { name: string; ks: number }[] } };
    assert.equal(monitoring.drift.windowRows, 1000);
    assert.ok(monitoring.drift.features.find((f) => f.name === 'petal_length')!.ks > 0.3);
  });
});

describe('bad input gets a 4xx naming the field and the row, never a 5xx', () => {
  const ctx = trainedServer({ MLOPS_MAX_ROWS: '50', MLOPS_BODY_LIMIT: '20000' });
  const row = SAMPLE[0];

  const cases: { name: string; body: unknown; status: number; error: RegExp; path?: string; contentType?: string }[] = [
    { name: 'not JSON', body: '[{"sepal_length": 1,', status: 400, error: /not valid JSON/ },
    {
      name: 'wrong content type',
      body: 'sepal_length=1',
      status: 415,
      error: /Unsupported Media Type/i,
      contentType: 'application/x-www-form-urlencoded',
    },
    { name: 'not a list', body: row, status: 400, error: /the body must be a JSON list of records, got object/ },
    { name: 'empty list', body: [], status: 400, error: /empty list/ },
    { name: 'a row that is not an object', body: [row, 5], status: 400, error: /row 1: expected an object of features, got 5/ },
    {
      name: 'missing feature',
      body: [row, { ...row, petal_width: undefined }],
      status: 400,
      error: /row 1: field 'petal_width' is missing/,
    },
    { name: 'extra feature', body: [{ ...row, colour: 'blue' }], status: 400, error: /row 0: unknown field 'colour'/ },
    {
      name: 'string',
      body: [{ ...row, sepal_width: '3.5' }],
      status: 400,
      error: /row 0: field 'sepal_width' must be a finite number, got the string "3.5"/,
    },
    {
      name: 'null',
      body: [{ ...row, sepal_width: null }],
      status: 400,
      error: /row 0: field 'sepal_width' must be a finite number, got null/,
    },
    { name: 'NaN as a string', body: [{ ...row, sepal_width: 'NaN' }], status: 400, error: /got the string "NaN"/ },
    {
      name: 'Infinity from a huge literal',
      body: '[{"sepal_length": 1e999, "sepal_width": 1, "petal_length": 1, "petal_width": 1}]',
      status: 400,
      error: /row 0: field 'sepal_length' must be a finite number/,
    },
    { name: 'beyond float32', body: [{ ...row, sepal_length: 1e39 }], status: 400, error: /within float32 range/ },
    { name: 'too many rows', body: Array(51).fill(row), status: 413, error: /too many rows: 51, the limit is 50/ },
    {
      name: 'body over the limit',
      body: JSON.stringify(Array(40).fill({ ...row, pad: 'x'.repeat(1000) })),
      status: 413,
      error: /Request body is too large/,
    },
    { name: 'unknown model (OIP)', path: '/v2/models/nope/infer', body: { inputs: [] }, status: 404, error: /model 'nope' not found/ },
    {
      name: 'unknown version (OIP)',
      path: '/v2/models/iris/versions/9/infer',
      body: { inputs: [] },
      status: 404,
      error: /model 'iris' version 9 not found/,
    },
    {
      name: 'bad version (OIP)',
      path: '/v2/models/iris/versions/1x/infer',
      body: { inputs: [] },
      status: 400,
      error: /version must be a positive whole number/,
    },
    {
      name: 'OIP wrong shape',
      path: '/v2/models/iris/infer',
      body: { inputs: [{ name: 'input', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] },
      status: 400,
      error: /shape \[1,3\] does not match \[N, 4\]/,
    },
    {
      name: 'OIP data count',
      path: '/v2/models/iris/infer',
      body: { inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] },
      status: 400,
      error: /data has 4 values, its shape needs 8/,
    },
    {
      name: 'OIP string datum',
      path: '/v2/models/iris/infer',
      body: { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [1, 2, 'x', 4] }] },
      status: 400,
      error: /inputs\[0\] "input"\.data\[2\] \(row 0, 'petal_length'\) must be a finite number, got the string "x"/,
    },
    {
      name: 'OIP missing column',
      path: '/v2/models/iris/infer',
      body: { inputs: [{ name: 'sepal_length', shape: [1], datatype: 'FP32', data: [1] }] },
      status: 400,
      error: /missing inputs for 'sepal_width', 'petal_length', 'petal_width'/,
    },
    {
      name: 'OIP bytes datatype',
      path: '/v2/models/iris/infer',
      body: { inputs: [{ name: 'input', shape: [1, 4], datatype: 'BYTES', data: ['a', 'b', 'c', 'd'] }] },
      status: 400,
      error: /inputs\[0\] "input": datatype BYTES does not fit a float32 input \(send FP32\)/,
    },
    {
      name: 'OIP unknown output',
      path: '/v2/models/iris/infer',
      body: { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }], outputs: [{ name: 'x' }] },
      status: 400,
      error: /outputs\[0\]\.name must be one of label, probabilities/,
    },
    {
      name: 'path traversal in a model name',
      path: '/v2/models/..%2f..%2fetc/infer',
      body: { inputs: [] },
      status: 400,
      error: /invalid model name/,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const r = await post(`${ctx.server.url}${c.path ?? '/predict'}`, c.body, c.contentType ? { 'content-type': c.contentType } : {});
      assert.equal(r.status, c.status, JSON.stringify(r.body));
      assert.match((r.body as { error: string }).error, c.error);
    });
  }

  test('the server is still up and predicting after all that', async () => {
    const r = await post(`${ctx.server.url}/predict`, SAMPLE);
    assert.equal(r.status, 200);
  });
});
