import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { openRegistry } from '../../common/registry';
import { ROOT, mlops, tempDataDir } from '../helpers/cli';
import { sqliteDb } from '../helpers/registry';

const RUNNER = path.join(ROOT, 'dist', 'runner.js');
const IRIS = path.join(ROOT, 'pipeline', 'examples', 'iris', 'pipeline.ts');

/** Starts the real runner frozen at a failpoint, waits until it is there, then SIGKILLs it. */
async function killAt(dataDir: string, runId: string, point: string): Promise<void> {
  const child = spawn(process.execPath, [RUNNER, '--run-id', runId, '--pipeline', IRIS], {
    env: { ...process.env, MLOPS_DATA_DIR: dataDir, MLOPS_FAILPOINT: point },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      if (err.includes(`failpoint ${point}`)) resolve();
    });
    child.on('exit', () => reject(new Error(`runner exited before reaching ${point}: ${err}`)));
  });
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
}

async function assertConsistent(dataDir: string, runId: string): Promise<void> {
  const registry = await openRegistry({ dataDir }); // what any next start does: recover runs, sweep orphans
  try {
    assert.equal(sqliteDb(registry).pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(await registry.models.list(), [], 'no version registered');
    const run = await registry.runs.get(runId);
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', /ended without finishing the run \(killed or crashed\)/);
    assert.ok(
      run.steps.every((s) => s.status !== 'running' && s.status !== 'pending'),
      JSON.stringify(run.steps),
    );
    const modelDir = path.join(dataDir, 'models', 'iris');
    assert.deepEqual(fs.existsSync(modelDir) ? fs.readdirSync(modelDir) : [], [], 'no model files without a row');
  } finally {
    await registry.close();
  }
}

describe('SIGKILL of the runner leaves the registry consistent', () => {
  test('during registration: files moved, row not yet committed', async () => {
    const dir = tempDataDir();
    await killAt(dir, 'kill-register', 'registry.after-move');
    assert.ok(fs.existsSync(path.join(dir, 'models', 'iris', '1', 'model.onnx')), 'the kill came after the files were in place');
    await assertConsistent(dir, 'kill-register');
    const next = mlops(dir, ['train', '-q']);
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, /registered iris version 1/);
  });

  for (const step of ['etl', 'train', 'export', 'evaluate', 'gate', 'register']) {
    test(`at the start of step ${step}`, async () => {
      const dir = tempDataDir();
      await killAt(dir, `kill-${step}`, `step.${step}`);
      await assertConsistent(dir, `kill-${step}`);
    });
  }
});
