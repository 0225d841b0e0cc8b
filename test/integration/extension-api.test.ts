import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ModelDetail, ModelSummary, RegistrySnapshot } from '../../common/contract';
import { ApiClient } from '../../extension/server/api-client';
import { trainIris, trainedServer } from '../helpers/server';

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
    const records = await api.sample(serving.model);
    const { body, version } = await api.predict(records);
    assert.equal(version, 'iris/1');
    const signature = served.signature;
    assert.equal(signature.task, 'classification');
    const labels = (body as Record<string, string>[]).map((r) => r[signature.target]);
    assert.equal(labels.length, 2);
    for (const label of labels) assert.ok(signature.classLabels.includes(label), label);
  });
});
