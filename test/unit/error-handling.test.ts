import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { errors } from '../../common/errors';
import { errorHandling } from '../../server/plugins/errors';

test('a locked database answers 503 with retry-after, naming which database; other errors keep their status', async () => {
  const app = Fastify();
  errorHandling(app, '/data/mlops.sqlite');
  app.get('/log', async () => {
    throw errors.predictionLogBusy('/data/predictions.sqlite');
  });
  app.get('/registry', async () => {
    throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
  });
  app.get('/missing', async () => {
    throw errors.notFound("model 'x'");
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const log = await fetch(`${url}/log`);
    assert.equal(log.status, 503);
    assert.equal(log.headers.get('retry-after'), '1');
    assert.deepEqual(await log.json(), {
      error: 'prediction log database /data/predictions.sqlite is locked by another process; try again',
      code: 'PREDICTION_LOG_BUSY',
    });
    const registry = await fetch(`${url}/registry`);
    assert.equal(registry.status, 503);
    assert.equal(registry.headers.get('retry-after'), '1');
    assert.deepEqual(await registry.json(), {
      error: 'database /data/mlops.sqlite is locked by another process; try again',
      code: 'REGISTRY_BUSY',
    });
    const missing = await fetch(`${url}/missing`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('retry-after'), null);
  } finally {
    await app.close();
  }
});
