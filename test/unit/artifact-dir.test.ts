import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openRegistry } from '../../common/registry';
import { sampleRecords } from '../../server/serving/sample';
import { tempDataDir } from '../helpers/cli';
import { post, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { intLabelClassifier, registerTyped } from '../helpers/typed-models';

// Model files in another folder than the data folder (a shared volume in production): registered
// there, served from there, and checked against the registry's sha256 on every load.
const dataDir = tempDataDir();
const artifactDir = tempDataDir('mlops-artifacts-');
let server: TestServer;
const previous = process.env.MLOPS_ARTIFACT_DIR;

before(() => {
  // The registry helpers read it from the environment; the server from its config (given below), as `mlops serve` does.
  process.env.MLOPS_ARTIFACT_DIR = artifactDir;
});
after(async () => {
  await server?.close();
  if (previous === undefined) delete process.env.MLOPS_ARTIFACT_DIR;
  else process.env.MLOPS_ARTIFACT_DIR = previous;
});

test('a model registered under MLOPS_ARTIFACT_DIR is stored and served from there', async () => {
  const v1 = await registerTyped(dataDir, 'digits', intLabelClassifier());
  assert.equal(v1.path, path.join(artifactDir, 'models', 'digits', '1', 'model.onnx'));
  assert.ok(fs.existsSync(v1.path));
  assert.ok(!fs.existsSync(path.join(dataDir, 'models', 'digits')), 'nothing under the data folder');
  server = await startTestServer(dataDir, { MLOPS_ARTIFACT_DIR: artifactDir });
  await waitFor('version 1 to be served', () => (server.holder.current()?.info.version === 1 ? true : undefined));
  const r = await post(`${server.url}/predict`, sampleRecords(v1.signature, 2));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.headers.get('x-model-version'), 'digits/1');
});

test('a file changed on disk after registration is refused on load; the old version keeps serving', async () => {
  const v2 = await registerTyped(dataDir, 'digits', intLabelClassifier());
  fs.appendFileSync(v2.path, Buffer.from([0])); // still a loadable file for a reader that does not check
  const registry = await openRegistry({ dataDir });
  try {
    await registry.models.setAlias('digits', 'production', 2, 'test');
  } finally {
    await registry.close();
  }
  const error = await waitFor('the refusal', () => server.holder.error() ?? undefined);
  assert.match(error, /digits version 2: .* is corrupt: .* has sha256 .* the registry recorded/);
  assert.equal(server.holder.current()?.info.version, 1);
  const r = await post(`${server.url}/predict`, sampleRecords(v2.signature, 1));
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-model-version'), 'digits/1');
});
