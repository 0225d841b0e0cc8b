// Models trained elsewhere, imported for real: a PyTorch export (Debian's python3-torch) through
// `mlops models register`, a scikit-learn-shaped ONNX with a ZipMap (Debian's python3-onnx) through
// POST /api/models/import; both served by /predict and OIP, with drift and the prediction log.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ClassificationSignature, ModelVersion, RegressionSignature } from '../../common/contract';
import { IRIS_CSV, json, mlops, needs, ROOT, tempDataDir } from '../helpers/cli';
import { IRIS_FEATURES, sklearnShapedCsv, sklearnShapedLabel, sklearnShapedModel, torchModel } from '../helpers/import';
import { debianPython } from '../helpers/python';
import { getJson, post, SAMPLE, startTestServer, waitFor, type TestServer } from '../helpers/server';

const torch = debianPython('torch');
const onnxPython = debianPython('onnx');
const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

interface OipAnswer {
  outputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[];
}

describe('a PyTorch model (the pipeline/examples/pytorch example)', { skip: needs(torch !== null, 'Debian python3-torch') }, () => {
  const dir = tempDataDir();
  let classifier = '';
  let server: TestServer;
  before(async () => {
    classifier = torchModel(torch!, dir, 'iris-torch.onnx', IRIS_CSV, 'variety');
    server = await startTestServer(dir);
  });
  after(() => server?.close());

  test('mlops models register: a typed signature, the CSV metrics and the lineage', () => {
    const args = ['--name', 'iris-torch', '--data', IRIS_CSV, '--target', 'variety', '--features', IRIS_FEATURES.join(',')];
    const r = mlops(dir, ['models', 'register', classifier, ...args, '--gate', '--json'], { USER: 'ada' });
    assert.equal(r.code, 0, r.stderr);
    const v = json<ModelVersion>(r);
    assert.equal(v.version, 1);
    const s = v.signature as ClassificationSignature;
    assert.deepEqual(s.inputs, [{ name: 'input', type: 'float32', width: 4, rank: 2 }]);
    assert.deepEqual(
      s.features.map((f) => [f.name, f.input, f.column]),
      IRIS_FEATURES.map((f, i) => [f, 'input', i]),
    );
    assert.equal(s.task, 'classification');
    assert.equal(s.labelKind, 'index');
    assert.equal(s.labelOutput, 'label');
    assert.equal(s.probabilitiesOutput, 'probabilities');
    assert.deepEqual(s.classLabels, ['Setosa', 'Versicolor', 'Virginica']);
    assert.ok(v.metrics.accuracy > 0.9 && v.metrics.macro_f1 > 0.9, JSON.stringify(v.metrics));
    assert.equal(v.metrics.rows, 150);
    assert.deepEqual(v.lineage.imported, { file: classifier, sha256: sha256(classifier), by: 'cli:ada' });
    assert.deepEqual(v.lineage.dataFiles, [{ path: IRIS_CSV, sha256: sha256(IRIS_CSV) }]);
    assert.equal(v.sha256, sha256(classifier), 'no rewrite: the registry holds the file as exported');
    assert.deepEqual(v.reference.classShares, [1 / 3, 1 / 3, 1 / 3]);
    const shown = mlops(dir, ['models', 'show', 'iris-torch/1']);
    assert.match(shown.stdout, /imported \S+iris-torch\.onnx sha256 [0-9a-f]{64} by cli:ada\n/);
  });

  test('served: /predict and OIP infer', async () => {
    await waitFor('the import to be served', async () => ((await server.holder.refresh(), server.holder.current()) ? true : undefined));
    const predict = await post(`${server.url}/predict`, SAMPLE);
    assert.equal(predict.status, 200, JSON.stringify(predict.body));
    assert.deepEqual(predict.body, [{ variety: 'Virginica' }, { variety: 'Versicolor' }]);
    const rows = SAMPLE.flatMap((r) => IRIS_FEATURES.map((f) => r[f as keyof typeof r]));
    const oip = await post(`${server.url}/v2/models/iris-torch/infer`, {
      inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', data: rows }],
    });
    assert.equal(oip.status, 200, JSON.stringify(oip.body));
    const label = (oip.body as OipAnswer).outputs.find((o) => o.name === 'label');
    assert.deepEqual(label?.data, ['Virginica', 'Versicolor']);
  });

  test('a regression network: RMSE, MAE and R² on the CSV', () => {
    const features = ['sepal_length', 'sepal_width', 'petal_length'];
    const model = torchModel(torch!, dir, 'width.onnx', IRIS_CSV, 'petal_width', '--task', 'regression', '--features', features.join(','));
    const args = ['--name', 'petal-width', '--data', IRIS_CSV, '--target', 'petal_width', '--features', features.join(',')];
    const r = mlops(dir, ['models', 'register', model, ...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const v = json<ModelVersion>(r);
    const s = v.signature as RegressionSignature;
    assert.equal(s.task, 'regression');
    assert.deepEqual(s.targets, ['petal_width']);
    assert.equal(s.valueOutput, 'value');
    assert.ok(v.metrics.r2 > 0.8 && v.metrics.rmse < 0.4 && v.metrics.mae < 0.4, JSON.stringify(v.metrics));
    assert.equal(v.reference.targets?.[0].count, 150);
  });

  test('served: a regression /predict answers the value', async () => {
    const regression = await startTestServer(dir, { MLOPS_MODEL: 'petal-width' });
    try {
      const res = await post(`${regression.url}/predict`, [{ sepal_length: 6.7, sepal_width: 3.5, petal_length: 5.2 }]);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const [answer] = res.body as { petal_width: number }[];
      assert.ok(answer.petal_width > 1.4 && answer.petal_width < 3, JSON.stringify(res.body));
    } finally {
      await regression.close();
    }
  });
});

describe(
  'a scikit-learn-shaped model: per-column inputs, a string column, a ZipMap output',
  {
    skip: needs(onnxPython !== null, 'Debian python3-onnx'),
  },
  () => {
    const dir = tempDataDir();
    let server: TestServer;
    let file = '';
    let data = '';
    before(async () => {
      file = sklearnShapedModel(onnxPython!, dir, 'sk.onnx');
      data = sklearnShapedCsv(dir, 'sk.csv');
      server = await startTestServer(dir);
    });
    after(() => server?.close());

    test('POST /api/models/import rewrites the ZipMap and registers a per-column signature (201)', async () => {
      const res = await post(`${server.url}/api/models/import`, { file, name: 'sk', data, target: 'label', gate: true }, server.apiHeaders);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const v = res.body as ModelVersion;
      const s = v.signature as ClassificationSignature;
      assert.deepEqual(s.inputs, [
        { name: 'x1', type: 'float32', width: 1, rank: 2 },
        { name: 'x2', type: 'float32', width: 1, rank: 2 },
        { name: 'colour', type: 'string', width: 1, rank: 2 },
      ]);
      assert.deepEqual(s.features.find((f) => f.name === 'colour')?.categories, ['blue', 'green', 'red']);
      assert.equal(s.labelKind, 'string');
      assert.equal(s.probabilitiesOutput, 'probabilities');
      assert.deepEqual(s.classLabels, ['a', 'b', 'c']);
      assert.equal(v.metrics.accuracy, 1);
      assert.equal(v.params.zipmap_removed, 'output_probability');
      assert.notEqual(v.sha256, sha256(file), 'the registry holds the rewritten graph');
      assert.deepEqual(v.lineage.imported, { file, sha256: sha256(file), by: 'api' });
      const colour = v.reference.features.find((f) => f.name === 'colour');
      assert.equal(colour?.kind, 'categorical');
    });

    test('served: /predict with a string field, OIP with per-column inputs, drift by category, the log', async () => {
      await waitFor('the import to be served', async () => ((await server.holder.refresh(), server.holder.current()) ? true : undefined));
      const records = [
        { x1: 4, x2: 1, colour: 'blue' },
        { x1: 0.5, x2: 1, colour: 'red' },
        { x1: 0.5, x2: 2, colour: 'green' },
      ];
      const predict = await post(`${server.url}/predict`, records);
      assert.equal(predict.status, 200, JSON.stringify(predict.body));
      assert.deepEqual(
        predict.body,
        records.map((r) => ({ label: sklearnShapedLabel(r.x1, r.x2, r.colour) })),
      );
      const oip = await post(`${server.url}/v2/models/sk/infer`, {
        inputs: [
          { name: 'x1', shape: [3, 1], datatype: 'FP32', data: records.map((r) => r.x1) },
          { name: 'x2', shape: [3, 1], datatype: 'FP32', data: records.map((r) => r.x2) },
          { name: 'colour', shape: [3, 1], datatype: 'BYTES', data: records.map((r) => r.colour) },
        ],
      });
      assert.equal(oip.status, 200, JSON.stringify(oip.body));
      assert.deepEqual((oip.body as OipAnswer).outputs.find((o) => o.name === 'output_label')?.data, ['a', 'c', 'b']);

      // A category never seen in training is accepted and counted.
      const unseen = await post(`${server.url}/predict`, [{ x1: 1, x2: 0, colour: 'purple' }]);
      assert.equal(unseen.status, 200, JSON.stringify(unseen.body));
      const monitoring = await waitFor('drift of the colour column', async () => {
        const m = await getJson<{ drift: { features: { name: string; kind: string; unseenShare?: number }[] } | null }>(
          `${server.url}/api/monitoring`,
          server.apiHeaders,
        );
        const colour = m.drift?.features.find((f) => f.name === 'colour');
        return colour && (colour.unseenShare ?? 0) > 0 ? colour : undefined;
      });
      assert.equal(monitoring.kind, 'categorical');

      const log = await waitFor('the prediction log', () => {
        const r = mlops(dir, ['logs', 'export', '--format', 'jsonl']);
        const lines = r.stdout.trim().split('\n').filter(Boolean);
        return lines.length >= 7 ? lines.map((l) => JSON.parse(l) as Record<string, unknown>) : undefined;
      });
      assert.ok(
        log.some((e) => JSON.stringify(e).includes('purple')),
        'the log keeps the string input as sent',
      );
    });

    test('int64 class labels (classlabels_int64s) through the CLI', () => {
      const intFile = sklearnShapedModel(onnxPython!, dir, 'sk-int.onnx', '--int-labels');
      const intData = sklearnShapedCsv(dir, 'sk-int.csv', 60, true);
      const r = mlops(dir, ['models', 'register', intFile, '--name', 'sk-int', '--data', intData, '--target', 'label', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const s = json<ModelVersion>(r).signature as ClassificationSignature;
      assert.equal(s.labelKind, 'int64');
      assert.deepEqual(s.classLabels, ['10', '20', '30']);
    });

    test('served: int64 labels are answered as numbers', async () => {
      const served = await startTestServer(dir, { MLOPS_MODEL: 'sk-int' });
      try {
        const res = await post(`${served.url}/predict`, [{ x1: 0, x2: 0, colour: 'red' }]);
        assert.deepEqual(res.body, [{ label: 30 }]);
      } finally {
        await served.close();
      }
    });
  },
);

describe('the scikit-learn command-step example (pipeline/examples/sklearn)', () => {
  const pipeline = path.join('pipeline', 'examples', 'sklearn', 'pipeline.ts');
  const skl2onnx = debianPython('sklearn', 'pandas', 'skl2onnx');

  test(
    'without skl2onnx the train step fails with one line saying what to pip install',
    { skip: skl2onnx ? 'skl2onnx is installed' : false },
    () => {
      const dir = tempDataDir();
      const r = mlops(dir, ['train', pipeline, '--param', 'python=/usr/bin/python3']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout + r.stderr, /not installed for \/usr\/bin\/python3: pip install (\S+ )*skl2onnx\n/);
      assert.match(r.stderr, /step 'train': command `\/usr\/bin\/python3 \S+train\.py` exited with code 1/);
      assert.deepEqual(json<unknown[]>(mlops(dir, ['models', 'list', '--json'])), []);
    },
  );

  test(
    'with skl2onnx: trains, exports and registers the iris classifier',
    { skip: skl2onnx ? false : 'needs pip install scikit-learn pandas skl2onnx' },
    () => {
      const dir = tempDataDir();
      const r = mlops(dir, ['train', pipeline, '--param', `python=${skl2onnx}`, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(json<{ registered: unknown }>(r).registered, { model: 'iris-sklearn', version: 1 });
    },
  );

  test(
    'its register step imports what the train step exported (a stand-in writes the skl2onnx-shaped file)',
    { skip: needs(onnxPython !== null, 'Debian python3-onnx') },
    () => {
      const dir = tempDataDir();
      const data = sklearnShapedCsv(dir, 'sk.csv');
      const standIn = path.join(ROOT, 'test', 'helpers', 'skl2onnx-stand-in.sh');
      const params = ['--param', `python=${standIn}`, '--param', `data=${data}`, '--param', 'target=label', '--param', 'model=sk'];
      const r = mlops(dir, ['train', pipeline, ...params, '--json']);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const run = json<{ registered: unknown; metrics: Record<string, number> }>(r);
      assert.deepEqual(run.registered, { model: 'sk', version: 1 });
      assert.equal(run.metrics.accuracy, 1);
      const v = json<ModelVersion>(mlops(dir, ['models', 'show', 'sk/1', '--json']));
      assert.equal((v.signature as ClassificationSignature).probabilitiesOutput, 'probabilities');
      assert.equal(v.lineage.pipeline, 'sklearn');
      assert.deepEqual(v.lineage.dataFiles, [{ path: data, sha256: sha256(data) }]);
    },
  );
});
