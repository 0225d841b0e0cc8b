// Notebook steps and mlops_step.py: real runner processes (dist/runner.js), Debian's Python with
// nbclient and ipykernel, real Jupyter kernels, SQLite, onnxruntime and signals.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { RunEvent, RunRecord } from '../../common/contract';
import { startRun } from '../../pipeline/runner/spawn';
import { FIXTURES, ROOT, needs, tempDataDir } from '../helpers/cli';
import { debianPython } from '../helpers/python';
import { alive, runRecord, until } from '../helpers/runs';

const EXAMPLE = path.join(ROOT, 'pipeline', 'examples', 'notebook', 'pipeline.ts');
const FAILING = path.join(FIXTURES, 'pipelines', 'notebook-failing.ts');
const SLEEP = path.join(FIXTURES, 'pipelines', 'notebook-sleep.ts');
const PARAMS = path.join(FIXTURES, 'pipelines', 'notebook-params.ts');
const HELPER = path.join(FIXTURES, 'pipelines', 'python-helper.ts');

const python = debianPython('nbclient', 'ipykernel', 'numpy', 'pandas', 'onnx');
const skip = needs(python !== null, 'python3 with nbclient, ipykernel, numpy, pandas and onnx (apt-get install python3-nbclient ...)');

interface Cell {
  cell_type: string;
  source: string | string[];
  metadata: { tags?: string[] };
  outputs?: { output_type: string; name?: string; text?: string | string[]; ename?: string }[];
}

const text = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join('') : (s ?? ''));

function start(dir: string, pipelineFile: string, params: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}) {
  const events: RunEvent[] = [];
  const output: string[] = [];
  const run = startRun({
    pipelineFile,
    params,
    env: { ...process.env, MLOPS_DATA_DIR: dir, ...env },
    onEvent: (e) => events.push(e),
    onOutput: (line) => output.push(line),
  });
  return { run, events, output };
}

/** Runs a pipeline to its end; the run's record, its events and its exit code. */
async function runToEnd(pipelineFile: string, params: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}) {
  const dir = tempDataDir();
  const { run, events, output } = start(dir, pipelineFile, params, env);
  const { exitCode } = await run.done;
  return { dir, exitCode, events, output: output.join('\n'), record: await runRecord(dir, run.runId) };
}

function executedCells(record: RunRecord, step: string): Cell[] {
  const copy = record.steps.find((s) => s.name === step)?.notebook;
  assert.ok(copy, `step ${step} records its executed copy`);
  return (JSON.parse(fs.readFileSync(path.join(record.runDir, copy), 'utf8')) as { cells: Cell[] }).cells;
}

/** A folder holding a Python package `name` that fails to import, to put first on PYTHONPATH. */
function brokenModule(name: string): string {
  const dir = tempDataDir('mlops-broken-');
  fs.mkdirSync(path.join(dir, name));
  fs.writeFileSync(path.join(dir, name, '__init__.py'), `raise ImportError("No module named '${name}'", name="${name}")\n`);
  return dir;
}

describe('notebook steps', { skip }, () => {
  test('the notebook example trains, exports and registers a model; a param overrides the notebook default', async () => {
    const { exitCode, events, record, output } = await runToEnd(EXAMPLE, { epochs: '300' }, { MLOPS_PYTHON: python! });
    assert.equal(exitCode, 0, `${record.error}\n${output}`);
    assert.deepEqual(record.registered, { model: 'iris-notebook', version: 1 });
    assert.equal(record.metrics.notebook_epochs, 300, 'the override reached the notebook');
    assert.ok(record.metrics.accuracy >= 0.9);
    assert.equal(record.metrics.onnx_parity, 1);
    const train = record.steps.find((s) => s.name === 'train')!;
    assert.equal(train.kind, 'notebook');
    assert.equal(train.notebook, 'train.ipynb');
    assert.deepEqual([...train.artifacts].sort(), ['expected_labels.json', 'model.onnx']);

    const cells = executedCells(record, 'train');
    const at = cells.findIndex((c) => c.metadata.tags?.includes('injected-parameters'));
    assert.ok(cells[at - 1].metadata.tags?.includes('parameters'), 'injected right after the parameters cell');
    assert.match(text(cells[at - 1].source), /^epochs = 2000$/m, 'the defaults stay as written');
    assert.match(text(cells[at].source), /^epochs = 300$/m);
    assert.match(text(cells[at].source), /^learningRate = 0\.1$/m, 'every param, as a Python literal');
    assert.match(text(cells[at].source), new RegExp(`^MLOPS_RUN_ID = '${record.id}'$`, 'm'));
    const outputs = cells.flatMap((c) => c.outputs ?? []);
    assert.ok(
      outputs.some((o) => o.output_type === 'stream' && /trained on 120 rows for 300 epochs/.test(text(o.text))),
      'the copy holds outputs',
    );
    assert.ok(
      outputs.some((o) => o.output_type === 'execute_result'),
      'and results (train.describe())',
    );

    const progress = events.filter((e) => e.type === 'step.progress');
    const codeCells = cells.filter((c) => c.cell_type === 'code').length;
    assert.equal(progress.length, codeCells, 'one progress event per code cell');
    assert.ok(progress.every((e) => e.type === 'step.progress' && e.step === 'train' && e.total === cells.length));
    const log = fs.readFileSync(train.logFile, 'utf8');
    assert.match(log, /INFO cell \d of 7: import json/);
    assert.match(log, /INFO trained on 120 rows for 300 epochs/, 'stream output in the step log');
  });

  test('params of every type reach the kernel as the same values; without a parameters cell the injected one comes first', async () => {
    const { exitCode, record } = await runToEnd(PARAMS, { text: "it's \"here\"\\n'''", count: '7' }, { MLOPS_PYTHON: python! });
    assert.equal(exitCode, 0, record.error ?? '');
    const seen: unknown = JSON.parse(fs.readFileSync(path.join(record.runDir, 'artifacts', 'seen.json'), 'utf8'));
    assert.deepEqual(seen, { text: "it's \"here\"\\n'''", flag: true, off: false, ratio: 0.25, count: 7, choice: 'b' });
    assert.deepEqual(executedCells(record, 'echo')[0].metadata.tags, ['injected-parameters']);
  });

  test('a notebook that does not write a file it produces fails the run naming it', async () => {
    const { exitCode, record } = await runToEnd(PARAMS, {}, { MLOPS_PYTHON: python!, MLOPS_TEST_PRODUCES: 'model.onnx' });
    assert.equal(exitCode, 1);
    assert.match(
      record.error ?? '',
      /^step 'echo': notebook notebooks\/echo\.ipynb ran to its end but wrote no model\.onnx in \/.*artifacts$/,
    );
  });

  test('a failing cell fails the run with one line naming the cell; the executed copy holds the error', async () => {
    const { exitCode, record } = await runToEnd(FAILING, {}, { MLOPS_PYTHON: python! });
    assert.equal(exitCode, 1);
    assert.equal(record.status, 'failed');
    const expected = `step 'failing': cell 4 (values = ['1', '2', 'three']): ValueError: invalid literal for int() with base 10: 'three'`;
    assert.equal(record.error, expected);
    assert.equal(record.steps.find((s) => s.name === 'after')?.status, 'skipped');
    const cells = executedCells(record, 'failing');
    assert.equal(cells[3].outputs?.[0].ename, 'ValueError');
    assert.match(text(cells[2].outputs?.[0].text), /reading 3 rows/);
    assert.deepEqual(cells[4].outputs, [], 'cells after the failing one did not run');
    const log = fs.readFileSync(record.steps[0].logFile, 'utf8');
    assert.match(log, /Traceback|ValueError/, 'the traceback is in the step log');
  });

  test('a cell past timeoutSec is interrupted and fails the run; its kernel is gone', async () => {
    const { exitCode, record } = await runToEnd(SLEEP, {}, { MLOPS_PYTHON: python!, MLOPS_TEST_CELL_TIMEOUT: '2' });
    assert.equal(exitCode, 1);
    assert.equal(record.error, `step 'sleepy': cell 4 (import os, time) ran longer than 2 s (timeoutSec): interrupted`);
    const kernel = Number(fs.readFileSync(path.join(record.runDir, 'artifacts', 'kernel.pid'), 'utf8'));
    assert.equal(alive(kernel), false, 'no kernel left');
    assert.match(text(executedCells(record, 'sleepy')[3].outputs?.[0].text), /sleeping/, 'the copy is saved on a timeout too');
  });

  test('a missing kernel or nbclient fails with what to install', async () => {
    const unknown = await runToEnd(SLEEP, {}, { MLOPS_PYTHON: python!, MLOPS_TEST_KERNEL: 'julia-1.9' });
    assert.equal(unknown.exitCode, 1);
    assert.match(
      unknown.record.error ?? '',
      /^step 'sleepy': the Jupyter kernel 'julia-1\.9' is not installed; install it .*kernelspec list/,
    );
    // Debian's python3 kernelspec with ipykernel unimportable: what a system without python3-ipykernel has.
    const noIpykernel = await runToEnd(SLEEP, {}, { MLOPS_PYTHON: python!, PYTHONPATH: brokenModule('ipykernel') });
    assert.match(noIpykernel.record.error ?? '', /^step 'sleepy': the Jupyter kernel 'python3' .* install python3-ipykernel \(Debian\)/);
    const noNbclient = await runToEnd(SLEEP, {}, { MLOPS_PYTHON: python!, PYTHONPATH: brokenModule('nbclient') });
    assert.match(noNbclient.record.error ?? '', /^step 'sleepy': \/usr\/bin\/python3 cannot import nbclient; install python3-nbclient/);
    const noPython = await runToEnd(SLEEP, {}, { MLOPS_PYTHON: '/nonexistent/python3' });
    assert.match(noPython.record.error ?? '', /cannot start Python \(\/nonexistent\/python3 not found\)/);
    for (const r of [unknown, noIpykernel, noNbclient, noPython]) assert.equal(r.record.error?.includes('\n'), false);
  });

  test('cancelling a run stops its kernel: no process of the run remains; the copy is saved', async () => {
    const dir = tempDataDir();
    const { run } = start(dir, SLEEP, {}, { MLOPS_PYTHON: python!, MLOPS_CANCEL_GRACE_MS: '10000' });
    const pidFile = path.join(dir, 'runs', run.runId, 'artifacts', 'kernel.pid');
    await until('the kernel to write its pid', () => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '');
    const kernel = Number(fs.readFileSync(pidFile, 'utf8'));
    const runner = (await runRecord(dir, run.runId)).pid!;
    assert.ok(alive(kernel));
    run.cancel();
    const { exitCode, signal } = await run.done;
    assert.equal(signal, null, 'the runner ended itself within the grace period');
    assert.equal(exitCode, 143);
    await until('the kernel to end', () => !alive(kernel), 5_000);
    // Zombies (the runner's esbuild service, reparented) are dead already: their parent reaps them.
    const processes = spawnSync('ps', ['-eo', 'pid=,pgid=,stat='], { encoding: 'utf8' }).stdout.trim().split('\n');
    const left = processes.map((l) => l.trim().split(/\s+/)).filter(([, pgid, stat]) => Number(pgid) === runner && !stat.startsWith('Z'));
    assert.deepEqual(left, [], "no process left in the runner's process group");
    const record = await runRecord(dir, run.runId);
    assert.equal(record.status, 'cancelled');
    assert.equal(record.steps[0].notebook, 'sleepy.ipynb', 'the executed copy is kept on a cancel');
  });

  test("after a SIGKILL of the runner's process group (the grace period's end) the kernel ends by itself", async () => {
    const dir = tempDataDir();
    const { run } = start(dir, SLEEP, {}, { MLOPS_PYTHON: python! });
    const pidFile = path.join(dir, 'runs', run.runId, 'artifacts', 'kernel.pid');
    await until('the kernel to write its pid', () => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '');
    const kernel = Number(fs.readFileSync(pidFile, 'utf8'));
    process.kill(-(await runRecord(dir, run.runId)).pid!, 'SIGKILL');
    assert.equal((await run.done).signal, 'SIGKILL');
    await until('the kernel to end', () => !alive(kernel), 5_000);
  });
});

describe('mlops_step.py', { skip }, () => {
  test('a Python command step imports it: params, artifact_path (nested), metric', async () => {
    const { exitCode, record } = await runToEnd(HELPER, { python: python!, greeting: "it's here" });
    assert.equal(exitCode, 0, record.error ?? '');
    assert.equal(record.metrics.greeting_length, 9);
    assert.equal(record.metrics.answer, 42);
    assert.equal(fs.readFileSync(path.join(record.runDir, 'artifacts', 'out', 'greeting.txt'), 'utf8'), "it's here");
    assert.deepEqual(record.steps[0].artifacts, ['out/greeting.txt']);
  });
});
