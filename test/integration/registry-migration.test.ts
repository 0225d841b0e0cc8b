// A registry written before typed signatures (test/fixtures/registry-v1, made by commit 8f9c529)
// opened by the current code: its version reads as a typed signature, scores and serves, and new
// versions (trained, or imported) are registered beside it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { ClassificationSignature, ModelVersion } from '../../common/contract';
import { infer } from '../../common/inference';
import { openRegistry } from '../../common/registry';
import { allocateBatch, featureSlots, setValue } from '../../common/tensor-layout';
import { FIXTURES, IRIS_CSV, json, mlops, tempDataDir } from '../helpers/cli';
import { IRIS_FEATURES } from '../helpers/import';
import { post, SAMPLE, startTestServer } from '../helpers/server';

/** A private copy: opening the registry migrates it in place. */
function copyOfV1(): string {
  const dir = tempDataDir('mlops-v1-');
  fs.cpSync(path.join(FIXTURES, 'registry-v1'), dir, { recursive: true });
  fs.rmSync(path.join(dir, 'README.md'));
  return dir;
}

describe('a format-1 registry (made by commit 8f9c529) opened by the current code', () => {
  test('its version reads as a typed signature: classification, labelKind index, one float32 input', async () => {
    const registry = await openRegistry({ dataDir: copyOfV1() });
    try {
      const v = await registry.models.version('iris', 1);
      const s = v.signature as ClassificationSignature;
      assert.equal(s.schema, 2);
      assert.equal(s.task, 'classification');
      assert.equal(s.labelKind, 'index');
      assert.deepEqual(s.inputs, [{ name: 'input', type: 'float32', width: 4, rank: 2 }]);
      assert.deepEqual(
        s.features.map((f) => [f.name, f.type, f.input, f.column]),
        IRIS_FEATURES.map((f, i) => [f, 'float32', 'input', i]),
      );
      assert.deepEqual(s.features[0].min, 4.3);
      assert.deepEqual(s.classLabels, ['Setosa', 'Versicolor', 'Virginica']);
      assert.equal(s.target, 'variety');
      assert.ok(v.reference.features.every((f) => f.kind === 'numeric'));
      assert.ok(fs.existsSync(v.path));
    } finally {
      await registry.close();
    }
  });

  test('it scores through common/inference.ts, the path the server predicts with', async () => {
    const registry = await openRegistry({ dataDir: copyOfV1() });
    try {
      const v = await registry.models.version('iris', 1);
      const batch = allocateBatch(v.signature, SAMPLE.length);
      for (const slot of featureSlots(v.signature)) {
        SAMPLE.forEach((row, i) => {
          const value = row[slot.feature.name as keyof typeof row];
          setValue(batch.buffers.get(slot.input.name)!, i * slot.stride + slot.offset, slot.feature.type, value);
        });
      }
      const session = await ort.InferenceSession.create(v.path);
      const prediction = await infer(session, v.signature, batch, true);
      await session.release();
      assert.equal(prediction.task, 'classification');
      if (prediction.task !== 'classification') return;
      const labels = Array.from(prediction.classes, (c) => (v.signature as ClassificationSignature).classLabels[c]);
      assert.deepEqual(labels, ['Virginica', 'Versicolor']);
      assert.equal(prediction.probabilities?.length, 6);
    } finally {
      await registry.close();
    }
  });

  test('served: /predict answers as before', async () => {
    const server = await startTestServer(copyOfV1());
    try {
      const res = await post(`${server.url}/predict`, SAMPLE);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, [{ variety: 'Virginica' }, { variety: 'Versicolor' }]);
    } finally {
      await server.close();
    }
  });

  test('new versions are registered beside it: trained, and imported', () => {
    const dir = copyOfV1();
    const trained = mlops(dir, ['train', '-q']);
    assert.equal(trained.code, 0, trained.stderr);
    // The v1 file itself, imported: this project's exports are ONNX like any other.
    const v1File = path.join(dir, 'models', 'iris', '1', 'model.onnx');
    const args = ['--name', 'iris', '--data', IRIS_CSV, '--target', 'variety', '--features', IRIS_FEATURES.join(',')];
    const imported = mlops(dir, ['models', 'register', v1File, ...args, '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(json<ModelVersion>(imported).version, 3);
    const { versions } = json<{ versions: ModelVersion[] }>(mlops(dir, ['models', 'show', 'iris', '--json']));
    assert.deepEqual(
      versions.map((v) => [v.version, v.signature.schema, v.signature.task]),
      [
        [3, 2, 'classification'],
        [2, 2, 'classification'],
        [1, 2, 'classification'],
      ],
    );
    assert.equal(versions[0].lineage.imported?.file, v1File);
    assert.equal((versions[0].signature as ClassificationSignature).labelKind, 'index');
  });
});
