// Cancelling a run stops it, even a step that computes without yielding; no runner outlives its
// parent. Real runner processes (dist/runner.js), signals and SQLite.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { RunEvent } from '../../common/contract';
import { openRegistry } from '../../common/registry';
import { startRun } from '../../pipeline/runner/spawn';
import { FIXTURES, MLOPS, ROOT, tempDataDir } from '../helpers/cli';
import { alive, runRecord, until } from '../helpers/runs';

const BUSY = path.join(FIXTURES, 'pipelines', 'busy-loop.ts');
const STUBBORN = path.join(FIXTURES, 'pipelines', 'stubborn-command.ts');

/** Starts a run through spawn.ts (as the server's cancel route and `mlops train` do) and waits for `step` to start. */
async function startAndReach(dir: string, pipelineFile: string, params: Record<string, string>, step: string, env: NodeJS.ProcessEnv = {}) {
  const events: RunEvent[] = [];
  const run = startRun({ pipelineFile, params, env: { ...process.env, MLOPS_DATA_DIR: dir, ...env }, onEvent: (e) => events.push(e) });
  await until(`step ${step}`, () => events.some((e) => e.type === 'step.started' && e.step === step));
  return { run, events };
}

describe('cancelling a run (spawn.ts cancel: what POST /api/runs/{id}/cancel and VS Code send)', () => {
  test('iris training stops between epochs: exit 143, run cancelled, nothing registered, well within the grace period', async () => {
    const dir = tempDataDir();
    const params = { trainer: 'logistic_regression', epochs: '100000000' };
    const { run, events } = await startAndReach(dir, path.join(ROOT, 'pipeline', 'examples', 'iris', 'pipeline.ts'), params, 'train', {
      MLOPS_CANCEL_GRACE_MS: '60000',
    });
    const started = performance.now();
    run.cancel();
    const { exitCode, signal } = await run.done;
    const seconds = (performance.now() - started) / 1000;
    assert.equal(signal, null, 'the runner ended itself, no SIGKILL needed');
    assert.equal(exitCode, 143);
    assert.ok(seconds < 10, `stopped after ${seconds} s`);
    const record = await runRecord(dir, run.runId);
    assert.equal(record.status, 'cancelled');
    assert.match(record.error ?? '', /cancelled during step 'train'/);
    assert.deepEqual(record.registered, null);
    assert.deepEqual(
      record.steps.map((s) => [s.name, s.status]).filter(([, s]) => s !== 'succeeded'),
      [
        ['train', 'failed'],
        ['export', 'skipped'],
        ['evaluate', 'skipped'],
        ['gate', 'skipped'],
        ['register', 'skipped'],
      ],
    );
    const finished = events.find((e) => e.type === 'run.finished');
    assert.equal(finished?.type === 'run.finished' && finished.status, 'cancelled');
    const registry = await openRegistry({ dataDir: dir });
    assert.deepEqual(await registry.models.list(), [], 'no model registered');
    await registry.close();
  });

  test('a step that never checks is killed after the grace period, and the run is still recorded as cancelled', async () => {
    const dir = tempDataDir();
    const { run } = await startAndReach(dir, BUSY, { checks: 'false' }, 'busy', { MLOPS_CANCEL_GRACE_MS: '1500' });
    const started = performance.now();
    run.cancel();
    const { exitCode, signal } = await run.done;
    const seconds = (performance.now() - started) / 1000;
    assert.equal(signal, 'SIGKILL');
    assert.equal(exitCode, 137);
    assert.ok(seconds >= 1.4 && seconds < 10, `killed after ${seconds} s`);
    const record = await runRecord(dir, run.runId);
    assert.equal(record.status, 'cancelled');
    assert.match(record.error ?? '', /cancelled: cancelled by SIGTERM \(runner process \d+ killed\)/);
    assert.equal(record.steps.find((s) => s.name === 'after')?.status, 'skipped');
  });

  test("a command step's process that ignores SIGTERM dies with the runner's process group: no stray process", async () => {
    const dir = tempDataDir();
    const { run } = await startAndReach(dir, STUBBORN, {}, 'stubborn', { MLOPS_CANCEL_GRACE_MS: '1000' });
    const pidFile = path.join(dir, 'runs', run.runId, 'artifacts', 'stubborn.pid');
    await until('the step to write its pid', () => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '');
    const stepPid = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.ok(alive(stepPid), 'the command step runs');
    run.cancel();
    const { signal } = await run.done;
    assert.equal(signal, 'SIGKILL', 'the runner waited on its stubborn step until the grace period ended');
    await until('the step process to be gone', () => !alive(stepPid), 5_000);
    assert.equal((await runRecord(dir, run.runId)).status, 'cancelled');
  });
});

describe('mlops train and signals', () => {
  /** `mlops train` of the busy-loop fixture, resolved once the busy step has started. */
  async function trainBusy(dir: string) {
    const child = spawn(process.execPath, [MLOPS, 'train', BUSY], { cwd: ROOT, env: { ...process.env, MLOPS_DATA_DIR: dir } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await until('the busy step', () => /busy for up to/.test(stderr));
    const registry = await openRegistry({ dataDir: dir });
    const [record] = await registry.runs.list(1);
    await registry.close();
    assert.ok(record.pid !== null && alive(record.pid), 'runner running');
    return { child, done, runId: record.id, runnerPid: record.pid, stderr: () => stderr };
  }

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    test(`${signal} to the CLI cancels its runner, waits for it and exits ${code}`, async () => {
      const dir = tempDataDir();
      const t = await trainBusy(dir);
      t.child.kill(signal);
      assert.equal(await t.done, code, t.stderr());
      assert.equal(alive(t.runnerPid), false, 'no orphaned runner');
      assert.match(t.stderr(), new RegExp(`${signal}: cancelling run ${t.runId}`));
      const record = await runRecord(dir, t.runId);
      assert.equal(record.status, 'cancelled');
      assert.match(record.error ?? '', new RegExp(`mlops train received ${signal}`));
    });
  }

  test('a runner whose parent dies (SIGKILL, no forwarding) ends itself and records the run as cancelled', async () => {
    const dir = tempDataDir();
    const t = await trainBusy(dir);
    t.child.kill('SIGKILL');
    await t.done;
    await until('the orphaned runner to end', () => !alive(t.runnerPid), 10_000);
    const record = await runRecord(dir, t.runId);
    assert.equal(record.status, 'cancelled');
    assert.match(record.error ?? '', /its parent process \d+ exited/);
  });
});
