// The step cache (pipeline/runner/step-cache.ts) through the real `mlops train`: runner processes,
// the registry's SQLite, files on disk.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { ModelVersion, RunRecord, StartRunResponse, StepRecord } from '../../common/contract';
import { FIXTURES, IRIS_CSV, json, MLOPS, mlops, needs, ROOT, tempDataDir } from '../helpers/cli';
import { debianPython } from '../helpers/python';
import { post, startTestServer, waitFor } from '../helpers/server';

const CACHE_STEPS = path.join(FIXTURES, 'pipelines', 'cache-steps.ts');

/** `mlops train --json …`: the finished run's record (asserting the exit code). */
function train(dir: string, args: string[], env: NodeJS.ProcessEnv = {}, code = 0): RunRecord {
  const r = mlops(dir, ['train', '--json', ...args], env);
  assert.equal(r.code, code, r.stderr);
  return json<RunRecord>(r);
}

const statuses = (run: RunRecord) => Object.fromEntries(run.steps.map((s) => [s.name, s.status]));
const step = (run: RunRecord, name: string): StepRecord => run.steps.find((s) => s.name === name)!;
const log = (run: RunRecord, name: string) => fs.readFileSync(step(run, name).logFile, 'utf8');
const artifact = (run: RunRecord, name: string) => path.join(run.runDir, 'artifacts', name);

/** Wall time of a whole `mlops train` (CLI, runner process, every step), in ms; the run's record. */
async function timedTrain(dir: string, params: string[]): Promise<{ ms: number; run: RunRecord }> {
  const started = performance.now();
  const child = spawn(process.execPath, [MLOPS, 'train', '--json', ...params.flatMap((p) => ['--param', p])], {
    cwd: ROOT,
    env: { ...process.env, MLOPS_DATA_DIR: dir },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const ms = performance.now() - started;
  assert.equal(code, 0, stderr);
  return { ms, run: JSON.parse(stdout) as RunRecord };
}

describe('iris twice: the second run reuses every step but register', () => {
  // A first run long enough to measure against (the second still starts two processes and loads the
  // pipeline): the iris rows 60 times over (9000 rows, below the 10,000 where gradient boosting stops
  // early), 10,000 boosting iterations at a slow learning rate (4000 gave a 6 s first run on an idle machine, and a
  // ratio of 20.0%: the second run's fixed ~1.2 s of process starts and tsx loading needs a first run well past it).
  const dir = tempDataDir();
  const data = path.join(dir, 'iris-x60.csv');
  const [header, ...rows] = fs.readFileSync(IRIS_CSV, 'utf8').trim().split('\n');
  fs.writeFileSync(data, [header, ...Array.from({ length: 60 }, () => rows).flat()].join('\n') + '\n');
  const params = [`data=${data}`, 'trainer=gradient_boosting', 'gbMaxIter=10000', 'gbLearningRate=0.01'];
  let first: { ms: number; run: RunRecord };
  let second: { ms: number; run: RunRecord };

  test('the second run is under 20% of the first wall time, every step but register cached from the first', async () => {
    first = await timedTrain(dir, params);
    second = await timedTrain(dir, params);
    process.stderr.write(`step cache: first run ${first.ms.toFixed(0)} ms, second ${second.ms.toFixed(0)} ms\n`);
    assert.deepEqual(statuses(first.run), {
      etl: 'succeeded',
      train: 'succeeded',
      export: 'succeeded',
      evaluate: 'succeeded',
      gate: 'succeeded',
      register: 'succeeded',
    });
    assert.deepEqual(statuses(second.run), {
      etl: 'cached',
      train: 'cached',
      export: 'cached',
      evaluate: 'cached',
      gate: 'cached',
      register: 'succeeded',
    });
    for (const s of second.run.steps.filter((s) => s.status === 'cached')) {
      assert.equal(s.cachedFrom, first.run.id, s.name);
      assert.match(log(second.run, s.name), new RegExp(`cached: reused run ${first.run.id}`));
    }
    assert.equal(step(second.run, 'register').cachedFrom, null);
    assert.ok(
      second.ms < 0.2 * first.ms,
      `second run ${second.ms.toFixed(0)} ms is not under 20% of the first's ${first.ms.toFixed(0)} ms`,
    );
  });

  test('register still registers a new version, with the same model bytes and lineage pointing at the new run', () => {
    assert.deepEqual(first.run.registered, { model: 'iris', version: 1 });
    assert.deepEqual(second.run.registered, { model: 'iris', version: 2 });
    const v1 = json<ModelVersion>(mlops(dir, ['models', 'show', 'models:/iris/1', '--json']));
    const v2 = json<ModelVersion>(mlops(dir, ['models', 'show', 'models:/iris/2', '--json']));
    assert.equal(v2.sha256, v1.sha256);
    assert.equal(v2.lineage.runId, second.run.id);
    assert.deepEqual(v2.metrics, v1.metrics);
  });

  test("the reused run records the source's metrics and artifacts per step", () => {
    assert.equal(second.run.metrics.accuracy, first.run.metrics.accuracy);
    assert.deepEqual(step(second.run, 'etl').artifacts, step(first.run, 'etl').artifacts);
    assert.ok(step(second.run, 'export').artifacts.includes('model.onnx'));
  });

  test("artifacts are hard links to the first run's files, which are all still there", () => {
    for (const name of first.run.artifacts) {
      const source = fs.statSync(artifact(first.run, name));
      const reused = fs.statSync(artifact(second.run, name));
      assert.equal(reused.ino, source.ino, name);
      assert.ok(source.nlink >= 2, name);
    }
  });
});

describe('what busts the cache', () => {
  const dir = tempDataDir();

  test('a param reruns from the step that reads it: the gate threshold reruns gate and register only', () => {
    const base = train(dir, ['-q']);
    const run = train(dir, ['--param', 'minAccuracy=0.8']);
    assert.deepEqual(statuses(run), {
      etl: 'cached',
      train: 'cached',
      export: 'cached',
      evaluate: 'cached',
      gate: 'succeeded',
      register: 'succeeded',
    });
    assert.equal(step(run, 'evaluate').cachedFrom, base.id);
  });

  test("a trainer's param reruns from train on; etl is cached", () => {
    const run = train(dir, ['--param', 'nEstimators=30']);
    assert.deepEqual(statuses(run), {
      etl: 'cached',
      train: 'succeeded',
      export: 'succeeded',
      evaluate: 'succeeded',
      gate: 'succeeded',
      register: 'succeeded',
    });
  });

  test('a changed data file reruns etl and everything after it', () => {
    const data = path.join(dir, 'iris.csv');
    fs.copyFileSync(IRIS_CSV, data);
    train(dir, ['--param', `data=${data}`]);
    const same = train(dir, ['--param', `data=${data}`]);
    assert.equal(step(same, 'etl').status, 'cached');
    // One row more: the same columns, another sha256.
    const lines = fs.readFileSync(data, 'utf8').trim().split('\n');
    fs.writeFileSync(data, [...lines, lines[1]].join('\n') + '\n');
    const changed = train(dir, ['--param', `data=${data}`]);
    assert.deepEqual(
      changed.steps.map((s) => s.status),
      ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded'],
    );
  });

  test('mlops train and runs show say which run a reused step came from', () => {
    const r = mlops(dir, ['train']);
    assert.equal(r.code, 0, r.stderr);
    const source = /\[1\/6\] etl cached: reused run (\S+)/.exec(r.stderr);
    assert.ok(source, r.stderr);
    const [latest] = json<RunRecord[]>(mlops(dir, ['runs', 'list', '--json']));
    assert.match(mlops(dir, ['runs', 'show', latest.id]).stdout, new RegExp(`etl\\s+│ cached from ${source[1]}`));
  });

  test('POST /api/runs with noCache runs every step; without it, the same run is reused', async () => {
    const server = await startTestServer(dir);
    try {
      const runThrough = async (body: object) => {
        const started = await post(`${server.url}/api/runs`, body, server.apiHeaders);
        assert.equal(started.status, 202, JSON.stringify(started.body));
        const { runId } = started.body as StartRunResponse;
        return waitFor(
          `run ${runId} to finish`,
          async () => {
            // 404 until the runner process has created the run's record.
            const res = await fetch(`${server.url}/api/runs/${runId}`, { headers: server.apiHeaders });
            const run = res.ok ? ((await res.json()) as RunRecord) : undefined;
            return run && run.status !== 'running' && run.status !== 'queued' ? run : undefined;
          },
          120_000,
        );
      };
      const all = await runThrough({ noCache: true });
      assert.ok(
        all.steps.every((s) => s.status === 'succeeded' && s.cachedFrom === null),
        JSON.stringify(statuses(all)),
      );
      const reused = await runThrough({});
      assert.equal(step(reused, 'etl').status, 'cached');
      assert.equal(step(reused, 'register').status, 'succeeded');
    } finally {
      await server.close();
    }
  });
});

describe('step cache rules (fixture pipeline)', () => {
  const dir = tempDataDir();
  const input = path.join(dir, 'input.txt');
  fs.writeFileSync(input, '0');
  const env = { MLOPS_TEST_INPUT: input };
  const run = (params: string[] = [], code = 0, extra: string[] = []) =>
    train(dir, [CACHE_STEPS, ...extra, ...params.flatMap((p) => ['--param', p])], env, code);

  test('a failed run is no source: the steps it finished run again', () => {
    const failed = run(['fail=true'], 1);
    assert.equal(failed.status, 'failed');
    const again = run();
    assert.ok(
      again.steps.every((s) => s.status === 'succeeded'),
      JSON.stringify(statuses(again)),
    );
  });

  test('cache: false always runs; a command step is reused with its produced file', () => {
    const second = run();
    assert.deepEqual(statuses(second), {
      numbers: 'cached',
      model: 'cached',
      use: 'cached',
      shell: 'cached',
      fresh: 'succeeded',
      report: 'cached',
    });
    assert.match(log(second, 'fresh'), /not cached: the step says cache: false/);
    assert.equal(fs.readFileSync(artifact(second, 'shell.txt'), 'utf8'), 'hi');
    assert.deepEqual(step(second, 'shell').artifacts, ['shell.txt']);
  });

  test('a value that cannot be restored (a class instance) is recomputed when a rerunning step needs it', () => {
    const relabelled = run(['label=sum']);
    // numbers is restored from its serialized Float64Array; model reruns for use, which reads `label`.
    assert.deepEqual(statuses(relabelled), {
      numbers: 'cached',
      model: 'succeeded',
      use: 'succeeded',
      shell: 'succeeded',
      fresh: 'succeeded',
      report: 'cached',
    });
    assert.match(log(relabelled, 'model'), /not cached: step 'use' runs and needs this step's return value in memory/);
    assert.equal(fs.readFileSync(artifact(relabelled, 'use.txt'), 'utf8'), 'sum 10');
  });

  test('a declared input file busts the cache when it changes', () => {
    fs.writeFileSync(input, '1');
    const changed = run();
    assert.equal(step(changed, 'numbers').status, 'succeeded');
    // report reads numbers.json, which changed, without `needs: ['numbers']`.
    assert.equal(step(changed, 'report').status, 'succeeded');
    assert.equal(fs.readFileSync(artifact(changed, 'use.txt'), 'utf8'), 'total 14');
    assert.equal(step(run(), 'numbers').status, 'cached');
  });

  test('--no-cache runs every step', () => {
    const all = run([], 0, ['--no-cache']);
    assert.ok(
      all.steps.every((s) => s.status === 'succeeded'),
      JSON.stringify(statuses(all)),
    );
  });
});

describe('a notebook step', () => {
  const python = debianPython('nbclient', 'ipykernel');
  const skip = needs(python !== null, 'python3 with nbclient and ipykernel (apt-get install python3-nbclient python3-ipykernel)');
  const dir = tempDataDir();
  const NOTEBOOK_PARAMS = path.join(FIXTURES, 'pipelines', 'notebook-params.ts');

  test('is reused with its executed copy (a hard link), and runs again when a param changes', { skip }, () => {
    const first = train(dir, [NOTEBOOK_PARAMS]);
    const second = train(dir, [NOTEBOOK_PARAMS]);
    assert.equal(step(second, 'echo').status, 'cached');
    assert.equal(step(second, 'echo').cachedFrom, first.id);
    assert.equal(step(second, 'echo').notebook, step(first, 'echo').notebook);
    const copy = (run: RunRecord) => fs.statSync(path.join(run.runDir, step(run, 'echo').notebook!));
    assert.equal(copy(second).ino, copy(first).ino);
    const changed = train(dir, [NOTEBOOK_PARAMS, '--param', 'count=4']);
    assert.equal(step(changed, 'echo').status, 'succeeded');
    assert.notEqual(copy(changed).ino, copy(first).ino);
  });
});
