// Every bad import gets one line and exit 1 from the CLI, a 4xx from the API, and registers nothing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { json, mlops, needs, tempDataDir } from '../helpers/cli';
import { sequenceOutputModel, sklearnShapedCsv, sklearnShapedModel } from '../helpers/import';
import { debianPython } from '../helpers/python';
import { post, startTestServer, type TestServer } from '../helpers/server';

const onnxPython = debianPython('onnx');

interface Case {
  name: string;
  /** The request: CLI flags and API body alike. */
  args: () => { file: string; data: string; target: string; task?: string; features?: string[] };
  message: RegExp;
}

describe('import errors: one line, exit 1 / 4xx, nothing registered', { skip: needs(onnxPython !== null, 'Debian python3-onnx') }, () => {
  const dir = tempDataDir();
  const work = tempDataDir('mlops-import-bad-');
  let model = '';
  let data = '';
  let server: TestServer;
  const write = (name: string, text: string) => {
    const file = path.join(work, name);
    fs.writeFileSync(file, text);
    return file;
  };
  before(async () => {
    model = sklearnShapedModel(onnxPython!, work, 'sk.onnx');
    data = sklearnShapedCsv(work, 'sk.csv', 30);
    server = await startTestServer(dir);
  });
  after(() => server?.close());

  const cases: Case[] = [
    {
      name: 'an input no CSV column matches',
      args: () => ({ file: model, data: write('renamed.csv', fs.readFileSync(data, 'utf8').replace('colour', 'color')), target: 'label' }),
      message: /inputs "colour" string \[N, 1\] to the CSV columns \[x1, x2, color, label\]/,
    },
    {
      name: 'a non-tensor output other than a ZipMap',
      args: () => ({ file: sequenceOutputModel(work, 'seq.onnx'), data, target: 'label' }),
      message: /seq\.onnx: output "items" is a sequence of float tensor; only tensors can be served/,
    },
    {
      name: 'the wrong task (regression asked of a classifier with string labels)',
      args: () => ({ file: model, data, target: 'label', task: 'regression' }),
      message: /sk\.onnx: a regression model needs a float output of one value per row .*"output_label" string, "probabilities" float32/,
    },
    {
      name: 'a missing target column',
      args: () => ({ file: model, data, target: 'species' }),
      message: /sk\.csv:1: missing target column 'species' \(found: x1, x2, colour, label\)/,
    },
    {
      name: 'a CSV that does not parse',
      args: () => ({ file: model, data: write('broken.csv', 'x1,x2,colour,label\n1,2,"red,a\n'), target: 'label' }),
      message: /broken\.csv:\d+: /,
    },
    {
      name: 'a value of the wrong type for its input',
      args: () => ({ file: model, data: write('typed.csv', 'x1,x2,colour,label\n1,two,red,c\n'), target: 'label' }),
      message: /typed\.csv:2: column 'x2': 'two' is not a number/,
    },
    {
      name: 'a feature column with no values',
      args: () => ({ file: model, data: write('empty.csv', 'x1,x2,colour,label\n,1,red,c\nNA,2,blue,b\n'), target: 'label' }),
      message: /empty\.csv: column 'x1': has no values/,
    },
    {
      name: '--features for a model whose inputs are all fed by name',
      args: () => ({ file: model, data, target: 'label', features: ['x1', 'x2', 'colour'] }),
      message: /--features names the columns of one \[N, F\] input/,
    },
    {
      name: 'a file that is not ONNX',
      args: () => ({ file: data, data, target: 'label' }),
      message: /sk\.csv: not an ONNX model/,
    },
  ];

  for (const c of cases) {
    test(`${c.name}: CLI`, () => {
      const a = c.args();
      const flags = ['--name', 'bad', '--data', a.data, '--target', a.target];
      if (a.task) flags.push('--task', a.task);
      if (a.features) flags.push('--features', a.features.join(','));
      const r = mlops(dir, ['models', 'register', a.file, ...flags]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, c.message);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.ok(r.stderr.startsWith('mlops: '), r.stderr);
    });

    test(`${c.name}: API`, async () => {
      const res = await post(`${server.url}/api/models/import`, { name: 'bad', ...c.args() }, server.apiHeaders);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match((res.body as { error: string }).error, c.message);
    });
  }

  test('the gate: a model below the thresholds exits 3 (CLI) and answers 400 (API)', async () => {
    const noisy = fs
      .readFileSync(data, 'utf8')
      .split('\n')
      .map((line, i) => (i > 0 && i % 3 === 0 ? line.replace(/,[abc]$/, ',a') : line))
      .join('\n');
    const file = write('noisy.csv', noisy);
    const r = mlops(dir, ['models', 'register', model, '--name', 'bad', '--data', file, '--target', 'label', '--gate']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^mlops: rejected by the gate: accuracy 0\.\d+ is not >= 0\.9/);
    const res = await post(
      `${server.url}/api/models/import`,
      { name: 'bad', file: model, data: file, target: 'label', gate: true },
      server.apiHeaders,
    );
    assert.equal(res.status, 400);
    assert.equal((res.body as { code: string }).code, 'GATE_REJECTED');
  });

  test('requests the API refuses before reading anything', async () => {
    const missing = await post(`${server.url}/api/models/import`, { name: 'bad', file: model, data }, server.apiHeaders);
    assert.equal(missing.status, 400);
    assert.match(JSON.stringify(missing.body), /target/);
    const task = await post(
      `${server.url}/api/models/import`,
      { name: 'bad', file: model, data, target: 'label', task: 'ranking' },
      server.apiHeaders,
    );
    assert.equal(task.status, 400);
    const name = await post(`${server.url}/api/models/import`, { name: '../x', file: model, data, target: 'label' }, server.apiHeaders);
    assert.equal(name.status, 400);
    assert.equal((name.body as { code: string }).code, 'BAD_NAME');
    const anonymous = await post(`${server.url}/api/models/import`, { name: 'bad', file: model, data, target: 'label' });
    assert.equal(anonymous.status, 401);
  });

  test('nothing was registered by any of them', () => {
    assert.deepEqual(json<unknown[]>(mlops(dir, ['models', 'list', '--json'])), []);
    const models = path.join(dir, 'models');
    const left = fs.existsSync(models) ? fs.readdirSync(models).filter((e) => e !== '.staging') : [];
    assert.deepEqual(left, []);
  });
});
