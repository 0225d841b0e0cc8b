import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ModelDetail, ModelSummary, RegistrySnapshot } from '../../common/contract';
import { predictionSummary } from '../../extension/model-text';
import { ApiClient } from '../../extension/server/api-client';
import { ROOT, mlops, tempDataDir } from '../helpers/cli';
import { startTestServer, trainIris, trainedServer, type TestServer } from '../helpers/server';

const PENGUINS = path.join(ROOT, 'pipeline', 'examples', 'penguins', 'pipeline.ts');

describe('GET /api/registry: the whole registry view in one request', () => {
  const ctx = trainedServer();

  test('every model with its versions and aliases, as /api/models and /api/models/:name give them', async () => {
    trainIris(ctx.dir, ['trainer=logistic_regression']);
    const api = new ApiClient(() => ctx.server.url, ctx.server.apiToken);
    await api.promote('iris', 'production', 1);
    const snapshot: RegistrySnapshot = await api.registry();
    const summaries: ModelSummary[] = await api.models();
    const detail: ModelDetail = await api.model('iris');
    assert.deepEqual(
      snapshot.models.map((m) => m.model),
      summaries,
    );
    assert.deepEqual(snapshot.models[0].versions, detail.versions);
    assert.deepEqual(
      snapshot.models[0].versions.map((v) => [v.version, v.aliases]),
      [
        [2, ['latest']],
        [1, ['production']],
      ],
    );
  });
});

describe("Send Test Prediction's records", () => {
  const ctx = trainedServer();

  test("the server's sample records for the served model, which it predicts", async () => {
    const api = new ApiClient(() => ctx.server.url, ctx.server.apiToken);
    const { serving } = await api.status();
    assert.ok(serving);
    const served = await api.version(serving.model, serving.version);
    assert.equal(served.signature.task, 'classification');
    const records = await api.sample(serving.model);
    const { body, version } = await api.predict(records);
    assert.equal(version, 'iris/1');
    const signature = served.signature;
    assert.equal(signature.task, 'classification');
    const labels = predictionSummary(signature, body).split(', ');
    assert.equal(labels.length, 2);
    for (const label of labels) assert.ok(signature.classLabels.includes(label), label);
  });
});

describe("Send Test Prediction's records for a regression model", () => {
  const ctx = { dir: '', server: undefined as unknown as TestServer };
  before(async () => {
    ctx.dir = tempDataDir();
    const r = mlops(ctx.dir, ['train', '-q', PENGUINS]);
    assert.equal(r.code, 0, r.stderr);
    ctx.server = await startTestServer(ctx.dir);
  });
  after(() => ctx.server?.close());

  test("typed sample records (categories, numbers) are predicted, and the answer reads as the target's values", async () => {
    const api = new ApiClient(() => ctx.server.url, ctx.server.apiToken);
    const { serving } = await api.status();
    assert.ok(serving);
    assert.equal(serving.signature.task, 'regression');
    const records = await api.sample(serving.model);
    assert.ok(records.length > 0);
    assert.ok(
      records.every((r) => typeof r.island === 'string' && typeof r.bill_length_mm === 'number'),
      JSON.stringify(records),
    );
    const { body, version } = await api.predict(records);
    assert.equal(version, 'penguins/1');
    assert.match(predictionSummary(serving.signature, body), /^body_mass_g \d+(\.\d+)?(, \d+(\.\d+)?)*$/);
  });
});
