import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { AliasMove, ModelVersion, RunRecord } from '../../common/contract';
import { FIXTURES, IRIS_CSV, json, mlops, mlopsAsync, needs, pythonWithOnnx, tempDataDir } from '../helpers/cli';

const versionsOf = (dir: string) => {
  const r = mlops(dir, ['models', 'show', 'iris', '--json']);
  return r.code === 0 ? json<{ versions: ModelVersion[]; history: AliasMove[] }>(r) : null;
};

describe('mlops train on the iris example (real runner process, SQLite, onnxruntime)', () => {
  const dir = tempDataDir();

  test('a fresh registry gets iris version 1 with accuracy >= 0.9 and full ONNX parity', () => {
    const r = mlops(dir, ['train', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const run = JSON.parse(r.stdout) as RunRecord;
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(run.registered, { model: 'iris', version: 1 });
    assert.ok(run.metrics.accuracy >= 0.9, `accuracy ${run.metrics.accuracy}`);
    assert.equal(run.metrics.onnx_parity, 1);
    assert.deepEqual(
      run.steps.map((s) => [s.name, s.status]),
      [
        ['etl', 'succeeded'],
        ['train', 'succeeded'],
        ['export', 'succeeded'],
        ['evaluate', 'succeeded'],
        ['gate', 'succeeded'],
        ['register', 'succeeded'],
      ],
    );
    for (const s of run.steps) assert.ok(fs.statSync(s.logFile).size > 0, `log of ${s.name}`);
    for (const a of ['model.onnx', 'dataset.json', 'evaluation.json', 'confusion_matrix.svg', 'train.csv', 'test.csv']) {
      assert.ok(run.artifacts.includes(a), `artifact ${a} recorded`);
      assert.ok(fs.existsSync(path.join(run.runDir, 'artifacts', a)), `artifact ${a} on disk`);
    }
    assert.match(
      fs.readFileSync(path.join(run.runDir, 'artifacts', 'confusion_matrix.svg'), 'utf8'),
      /^<svg[\s\S]*Virginica[\s\S]*<\/svg>\s*$/,
    );
    const events = fs
      .readFileSync(path.join(run.runDir, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(events[0].type, 'run.started');
    assert.equal(events.at(-1).type, 'run.finished');
    assert.equal(events.filter((e) => e.type === 'step.finished').length, 6);
  });

  test('the version carries file, sha256, signature, lineage and training reference', () => {
    const v = json<ModelVersion>(mlops(dir, ['models', 'show', 'iris/1', '--json']));
    assert.ok(fs.existsSync(v.path) && v.path.startsWith(dir));
    assert.match(v.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(
      v.signature.features.map((f) => f.name),
      ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
    );
    assert.ok(v.signature.task === 'classification');
    assert.deepEqual(v.signature.classLabels, ['Setosa', 'Versicolor', 'Virginica']);
    assert.equal(v.signature.target, 'variety');
    assert.equal(v.signature.features[2].min, 1);
    assert.equal(v.signature.features[2].max, 6.9);
    assert.equal(v.lineage.dataFiles.length, 1);
    assert.match(v.lineage.dataFiles[0].sha256, /^[0-9a-f]{64}$/);
    assert.ok(v.lineage.runId);
    assert.equal(v.reference.features.length, 4);
    assert.equal(v.reference.classShares?.length, 3);
    assert.equal(v.params.trainer, 'auto', 'auto: random_forest for number features and classes');
  });

  test('a second run registers version 2; promote moves the alias and writes history', () => {
    const r = mlops(dir, ['train', '-q', '--param', 'trainer=logistic_regression']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /registered iris version 2/);
    assert.equal(mlops(dir, ['models', 'promote', 'iris', '1']).code, 0);
    const p = mlops(dir, ['models', 'promote', 'iris', '2', '--alias', 'production', '--json']);
    assert.equal(p.code, 0, p.stderr);
    const move = JSON.parse(p.stdout) as AliasMove;
    assert.deepEqual([move.fromVersion, move.toVersion, move.alias], [1, 2, 'production']);
    const model = versionsOf(dir)!;
    assert.deepEqual(
      model.versions.map((v) => v.version),
      [2, 1],
    );
    assert.deepEqual(model.versions[0].aliases.sort(), ['latest', 'production']);
    assert.equal(model.versions[0].params.trainer, 'logistic_regression');
    assert.deepEqual(
      model.history.map((h) => [h.alias, h.fromVersion, h.toVersion]),
      [
        ['production', null, 1],
        ['production', 1, 2],
      ],
    );
    assert.equal(json<ModelVersion>(mlops(dir, ['models', 'show', 'iris@production', '--json'])).version, 2);
  });

  test('promote to a missing version or a reserved alias is refused', () => {
    const missing = mlops(dir, ['models', 'promote', 'iris', '9']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /model 'iris' version 9 not found/);
    const reserved = mlops(dir, ['models', 'promote', 'iris', '1', '--alias', 'latest']);
    assert.equal(reserved.code, 1);
    assert.match(reserved.stderr, /"latest" always means the newest version/);
  });

  test('runs list and show report the runs', () => {
    const list = json<RunRecord[]>(mlops(dir, ['runs', 'list', '--json']));
    assert.equal(list.length, 2);
    assert.ok(list.every((r) => r.status === 'succeeded'));
    const shown = mlops(dir, ['runs', 'show', list[0].id]);
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, /evaluate\s+│ succeeded/);
    assert.equal(mlops(dir, ['runs', 'show', '../etc']).code, 1);
  });
});

describe('the gate', () => {
  test('a threshold that cannot be met exits 3 (not 2, a usage error) and registers nothing', () => {
    const dir = tempDataDir();
    const r = mlops(dir, ['train', '--param', 'minAccuracy=1', '--param', 'maxRecallGap=0']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /rejected by the gate: accuracy [\d.]+ is not >= 1; recall_gap [\d.]+ is not <= 0/);
    assert.equal(versionsOf(dir), null);
    const [run] = json<RunRecord[]>(mlops(dir, ['runs', 'list', '--json']));
    assert.equal(run.status, 'rejected');
    assert.equal(run.steps.find((s) => s.name === 'gate')?.status, 'rejected');
    assert.equal(run.steps.find((s) => s.name === 'register')?.status, 'skipped');
  });
});

describe('a step written in another language', () => {
  const python = pythonWithOnnx();
  test(
    'a Python command step trains a model that is evaluated, gated and registered',
    { skip: needs(python !== null, 'python3 with numpy and onnx (apt-get install python3-numpy python3-onnx)') },
    () => {
      const dir = tempDataDir();
      const r = mlops(dir, ['train', path.join('pipeline', 'examples', 'python', 'pipeline.ts'), '--param', `python=${python}`, '--json']);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const run = JSON.parse(r.stdout) as RunRecord;
      assert.deepEqual(run.registered, { model: 'iris-python', version: 1 });
      assert.ok(run.metrics.accuracy >= 0.9);
      assert.equal(run.metrics.onnx_parity, 1);
      assert.ok(run.metrics.python_train_accuracy > 0.9, 'metrics written by the Python step are recorded');
      assert.match(fs.readFileSync(run.steps[1].logFile, 'utf8'), /trained softmax regression on 120 rows/);
    },
  );
});

describe('concurrent runs', () => {
  test('two runs at once get distinct versions', async () => {
    const dir = tempDataDir();
    const [a, b] = await Promise.all([mlopsAsync(dir, ['train', '-q']).done, mlopsAsync(dir, ['train', '-q']).done]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(
      versionsOf(dir)!.versions.map((v) => v.version),
      [2, 1],
    );
  });
});

describe('errors: one line naming the file, line, column or step; run failed; nothing registered', () => {
  const work = tempDataDir('mlops-csv-');
  const csv = (name: string, text: string) => {
    const file = path.join(work, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const header = 'sepal_length,sepal_width,petal_length,petal_width,variety\n';
  const good = fs.readFileSync(IRIS_CSV, 'utf8').split('\n').slice(1).join('\n');

  // Exit code 1 (failed), or 2 where the mistake is in the command line (a param: a usage error).
  const cases: { name: string; args: () => string[]; message: RegExp; code?: number }[] = [
    {
      name: 'malformed CSV',
      args: () => ['--param', `data=${csv('malformed.csv', header + '5.1,3.5,1.4,0.2,"Setosa\n4.9,3,1.4,.2,Setosa\n')}`],
      message: /malformed\.csv:\d+: Quote Not Closed/,
    },
    {
      name: 'missing column',
      args: () => ['--param', `data=${csv('missing.csv', 'sepal_length,sepal_width,petal_length,variety\n5.1,3.5,1.4,Setosa\n')}`],
      message: /missing\.csv:1: missing column 'petal_width'/,
    },
    {
      name: 'non-numeric value',
      args: () => ['--param', `data=${csv('text.csv', header + good.replace(/^4\.9,3,/m, '4.9,three,'))}`, '--param', 'maxBadRowShare=0'],
      message: /text\.csv:3: column 'sepal_width': 'three' is not a number \(1 of 150 rows are bad/,
    },
    {
      name: 'unknown param',
      args: () => ['--param', 'colour=blue'],
      message: /unknown param 'colour' for pipeline iris \(known: data, /,
      code: 2,
    },
    {
      name: 'wrong param type',
      args: () => ['--param', 'nEstimators=many'],
      message: /param 'nEstimators' expects an integer, got 'many'/,
      code: 2,
    },
    {
      name: 'param out of range',
      args: () => ['--param', 'testSize=2'],
      message: /param 'testSize' expects a number <= 0.9, got '2'/,
      code: 2,
    },
    { name: 'missing data file', args: () => ['--param', 'data=nowhere.csv'], message: /nowhere\.csv: cannot read \(ENOENT\)/ },
    {
      name: 'failing step',
      args: () => [path.join(FIXTURES, 'pipelines', 'failing-step.ts')],
      message: /step 'explode' failed: the disk is on fire/,
    },
    {
      name: 'command step exits non-zero',
      args: () => [path.join(FIXTURES, 'pipelines', 'command-steps.ts'), '--param', 'mode=exit'],
      message: /step 'train': command `sh -c .*` exited with code 3 \(log: .*train\.log\)/,
    },
    {
      name: 'command step writes no model',
      args: () => [path.join(FIXTURES, 'pipelines', 'command-steps.ts'), '--param', 'mode=no-model'],
      message: /step 'train': command `sh -c .*` exited 0 but wrote no model\.onnx in /,
    },
    {
      name: 'missing pipeline module',
      args: () => ['no/such/pipeline.ts'],
      message: /cannot load pipeline .*no\/such\/pipeline\.ts: no such file/,
    },
  ];

  for (const c of cases) {
    test(c.name, () => {
      const dir = tempDataDir();
      const r = mlops(dir, ['train', ...c.args()]);
      assert.equal(r.code, c.code ?? 1, `exit code; stderr: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.match(lines.at(-1)!, c.message);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace without --verbose');
      assert.equal(versionsOf(dir), null, 'nothing registered');
      const runs = json<RunRecord[]>(mlops(dir, ['runs', 'list', '--json']));
      assert.equal(runs.length, 1);
      assert.equal(runs[0].status, 'failed');
      assert.match(runs[0].error ?? '', c.message);
    });
  }

  test('a few bad rows are reported and dropped, not fatal; a missing value is kept', () => {
    const dir = tempDataDir();
    const file = csv('one-bad.csv', header + good.replace(/^4\.9,3,/m, '4.9,three,').replace(/^4\.7,3\.2,/m, '4.7,,'));
    const r = mlops(dir, ['train', '--param', `data=${file}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: dropped .*one-bad\.csv:3: column 'sepal_width': 'three' is not a number/);
    const [run] = json<RunRecord[]>(mlops(dir, ['runs', 'list', '--json']));
    assert.equal(run.metrics.rows_dropped, 1);
    assert.equal(run.metrics.rows_read, 150);
    assert.match(fs.readFileSync(run.steps[0].logFile, 'utf8'), /missing values \(kept\): sepal_width 1/);
  });

  test('--verbose shows the stack of an unexpected error', () => {
    const r = mlops(tempDataDir(), ['--verbose', 'train', path.join(FIXTURES, 'pipelines', 'failing-step.ts')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /at Object.run .*failing-step.ts:12/);
  });
});

describe('usage errors', () => {
  test('an unknown command or flag: one line, exit 2', () => {
    for (const args of [['bogus'], ['train', '--nope'], ['models', 'promote', 'iris']]) {
      const r = mlops(tempDataDir(), args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^error: /);
    }
  });
  test('a param the pipeline does not have, a value of the wrong type or a malformed --param: exit 2, no step runs', () => {
    for (const param of ['nope=1', 'seed=abc', 'seed']) {
      const dir = tempDataDir();
      const r = mlops(dir, ['train', '--param', param]);
      assert.equal(r.code, 2, `${param}: ${r.stderr}`);
      assert.match(r.stderr, /param '(nope|seed)'/);
      assert.equal(versionsOf(dir), null);
    }
  });
  test('every command has --help', () => {
    for (const cmd of ['train', 'runs', 'models', 'serve', 'logs', 'loadtest', 'start']) {
      const r = mlops(tempDataDir(), [cmd, '--help']);
      assert.equal(r.code, 0, cmd);
      assert.match(r.stdout, new RegExp(`Usage: mlops ${cmd}`));
    }
  });
});
