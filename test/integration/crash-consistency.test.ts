import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { openRegistry } from '../../common/registry';
import { ROOT, mlops, tempDataDir } from '../helpers/cli';
import { startTestServer, trainIris, waitFor } from '../helpers/server';
import { sqliteDb } from '../helpers/registry';

const RUNNER = path.join(ROOT, 'dist', 'runner.js');
const IRIS = path.join(ROOT, 'pipeline', 'examples', 'iris', 'pipeline.ts');

/** Starts the real runner frozen at a failpoint, waits until it is there, then SIGKILLs it. */
async function killAt(dataDir: string, runId: string, point: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const child = spawn(process.execPath, [RUNNER, '--run-id', runId, '--pipeline', IRIS], {
    env: { ...process.env, MLOPS_DATA_DIR: dataDir, MLOPS_FAILPOINT: point, ...env },
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

describe('a runner killed on another host (a training pod)', () => {
  test('its run stays running while its lease is live, and a server ends it once the lease has lapsed, without a restart', async () => {
    const dir = tempDataDir();
    trainIris(dir);
    const lease = { MLOPS_RUN_LEASE_SEC: '4' };
    const server = await startTestServer(dir, lease); // looks for runs whose runner is gone every 2 s
    try {
      await killAt(dir, 'pod-run', 'step.train', { ...lease, MLOPS_HOST_ID: 'training-pod-1' });
      // Its pid means nothing on this host: only its lease (renewed every 1.3 s, 4 s long) speaks for it.
      const run = await server.registry.runs.get('pod-run');
      assert.deepEqual([run.status, run.host], ['running', 'training-pod-1']);
      const ended = await waitFor(
        'the run ended by the server',
        async () => {
          const r = await server.registry.runs.get('pod-run');
          return r.status === 'running' ? undefined : r;
        },
        15_000,
      );
      assert.equal(ended.status, 'failed');
      assert.match(ended.error ?? '', /ended without finishing the run \(killed or crashed\)/);
      assert.ok(
        ended.steps.every((s) => s.status !== 'running' && s.status !== 'pending'),
        JSON.stringify(ended.steps),
      );
      assert.deepEqual(await server.registry.leases.live('run:'), [], 'no live lease left');
    } finally {
      await server.close();
    }
  });
});
