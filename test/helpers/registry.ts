import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { NewVersion, Registry, SqliteRegistry } from '../../common/registry';
import { tabularInput } from '../../common/signature';

/** The SQLite connection of a registry, for tests that prove what the database itself enforces. */
export function sqliteDb(registry: Registry): SqliteRegistry['db'] {
  if (registry.backend !== 'sqlite') throw new Error(`this test needs the SQLite registry, not ${registry.backend}`);
  return (registry as SqliteRegistry).db;
}

/** A version to register: a stand-in ONNX file of its own in `dir` and a classification signature. */
export function newVersion(dir: string, model = 'iris'): NewVersion {
  const file = path.join(dir, `upload-${crypto.randomUUID()}.onnx`);
  fs.writeFileSync(file, `not really onnx ${crypto.randomUUID()}`);
  return {
    model,
    onnxFile: file,
    signature: {
      ...tabularInput('input', 'float32', [{ name: 'x', min: 0, max: 1 }]),
      task: 'classification',
      target: 'y',
      labelOutput: 'label',
      labelKind: 'index',
      probabilitiesOutput: 'probabilities',
      classLabels: ['a', 'b'],
    },
    metrics: { accuracy: 0.95 },
    params: { seed: 1 },
    lineage: { runId: null, pipeline: null, git: { commit: null, branch: null, dirty: null }, dataFiles: [] },
    reference: { rows: 0, features: [], classShares: [0.5, 0.5] },
  };
}
