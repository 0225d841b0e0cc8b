// "MLOps: New Pipeline…" outside VS Code: each kind is scaffolded from a CSV into a temp folder and
// trained for real with `mlops train`, as the extension starts it at once.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { RunRecord } from '../../common/contract';
import { isMlopsError } from '../../common/errors';
import { scaffoldPipeline } from '../../extension/scaffold/scaffold';
import { stepFiles } from '../../extension/artifacts/artifact-files';
import { IRIS_CSV, json, mlops, needs, pythonWithOnnx, ROOT, tempDataDir } from '../helpers/cli';
import { debianPython } from '../helpers/python';

const python = pythonWithOnnx();
const jupyter = debianPython('nbclient', 'ipykernel', 'numpy', 'pandas', 'onnx');
const workspace = tempDataDir('mlops-scaffold-');
const pipelinesDir = path.join(workspace, 'pipelines');
after(() => fs.rmSync(workspace, { recursive: true, force: true }));

/** The iris CSV with a text column added: a TypeScript pipeline keeps it, a Python one leaves it out. */
function irisWithText(): string {
  const [header, ...rows] = fs.readFileSync(IRIS_CSV, 'utf8').trim().split('\n');
  const file = path.join(workspace, 'flowers.csv');
  fs.writeFileSync(file, [`${header},garden`, ...rows.map((r, i) => `${r},${i % 2 ? 'north' : 'south'}`)].join('\n'));
  return file;
}

describe('New Pipeline scaffolds pipelines that train', () => {
  const data = irisWithText();

  test('TypeScript steps: every other column is a feature, and the run registers the model', () => {
    const s = scaffoldPipeline({ kind: 'typescript', projectRoot: ROOT, pipelinesDir, name: 'flowers-ts', data, target: 'variety' });
    assert.deepEqual(s.dropped, []);
    assert.deepEqual(
      s.files.map((f) => path.basename(f)),
      ['pipeline.ts'],
    );
    const source = fs.readFileSync(s.pipeline, 'utf8');
    assert.match(source, /const FEATURES = \['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'garden'\];/);
    assert.match(source, /param\.path\('\.\.\/\.\.\/flowers\.csv'/, 'the data file, relative to the pipeline folder');
    const r = mlops(tempDataDir(), ['train', s.pipeline, '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const run = json<RunRecord>(r);
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(run.registered, { model: 'flowers-ts', version: 1 });
    assert.deepEqual(
      run.steps.map((st) => [st.name, st.needs]),
      [
        ['etl', []],
        ['train', ['etl']],
        ['export', ['train']],
        ['evaluate', ['export']],
        ['gate', ['evaluate']],
        ['register', ['gate']],
      ],
    );
  });

  const noPython = needs(python !== null, 'Python with numpy and onnx');
  test(
    'a Python command step: numeric features only, train.py beside it, the run registers the model, the cache sees its trainer',
    { skip: noPython },
    () => {
      const s = scaffoldPipeline({ kind: 'python', projectRoot: ROOT, pipelinesDir, name: 'flowers-py', data, target: 'variety' });
      assert.deepEqual(s.dropped, ['garden']);
      assert.deepEqual(s.files.map((f) => path.basename(f)).sort(), ['pipeline.ts', 'softmax_onnx.py', 'train.py']);
      const dataDir = tempDataDir();
      const r = mlops(dataDir, ['train', s.pipeline, '--json', '--param', `python=${python}`]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const run = json<RunRecord>(r);
      assert.equal(run.status, 'succeeded');
      assert.deepEqual(run.registered, { model: 'flowers-py', version: 1 });
      const train = run.steps.find((st) => st.name === 'train')!;
      assert.equal(train.kind, 'command');
      assert.ok(train.artifacts.includes('model.onnx'), train.artifacts.join(', '));

      // The step cache: the same again is cached; a change to the trainer train.py imports reruns it.
      const again = (): RunRecord => json<RunRecord>(mlops(dataDir, ['train', s.pipeline, '--json', '--param', `python=${python}`]));
      assert.equal(again().steps.find((st) => st.name === 'train')!.status, 'cached');
      fs.appendFileSync(path.join(s.dir, 'softmax_onnx.py'), '\n# changed\n');
      assert.equal(again().steps.find((st) => st.name === 'train')!.status, 'succeeded');
    },
  );

  const noJupyter = needs(jupyter !== null, 'python3 with nbclient, ipykernel, numpy, pandas and onnx');
  test(
    "a notebook step: train.ipynb beside it, the executed copy is the step's file, the run registers the model",
    { skip: noJupyter },
    () => {
      const s = scaffoldPipeline({ kind: 'notebook', projectRoot: ROOT, pipelinesDir, name: 'flowers-nb', data, target: 'variety' });
      assert.deepEqual(s.files.map((f) => path.basename(f)).sort(), ['pipeline.ts', 'softmax_onnx.py', 'train.ipynb']);
      const r = mlops(tempDataDir(), ['train', s.pipeline, '--json', '--param', 'epochs=300'], { MLOPS_PYTHON: jupyter! });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const run = json<RunRecord>(r);
      assert.equal(run.status, 'succeeded');
      assert.deepEqual(run.registered, { model: 'flowers-nb', version: 1 });
      assert.equal(run.metrics.notebook_epochs, 300, 'the param reached the notebook');
      const train = run.steps.find((st) => st.name === 'train')!;
      assert.equal(train.kind, 'notebook');
      const files = stepFiles(run.runDir, train);
      assert.ok(files[0].notebook && fs.existsSync(files[0].file), 'the executed copy is listed first, and exists');
    },
  );

  test('bad input is refused with one line naming the problem, and nothing is written', () => {
    const cases: [Partial<Parameters<typeof scaffoldPipeline>[0]>, RegExp][] = [
      [{ name: 'Bad Name' }, /bad pipeline name "Bad Name"/],
      [{ name: 'flowers-ts' }, /flowers-ts already exists: pick another name/],
      [{ target: 'colour' }, /flowers\.csv: no column "colour" \(columns: sepal_length, .*garden\)/],
      [{ data: path.join(workspace, 'missing.csv') }, /missing\.csv: cannot read it \(ENOENT\)/],
    ];
    for (const [change, message] of cases) {
      const request = { kind: 'typescript' as const, projectRoot: ROOT, pipelinesDir, name: 'other', data, target: 'variety', ...change };
      assert.throws(
        () => scaffoldPipeline(request),
        (err: unknown) => isMlopsError(err) && err.code === 'SCAFFOLD' && message.test(err.message),
        JSON.stringify(change),
      );
    }
    assert.equal(fs.existsSync(path.join(pipelinesDir, 'other')), false, 'nothing written');
  });
});
