import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ModelVersion } from '../../common/contract';
import { CARD_SECTIONS } from '../../common/model-card';
import { ApiClient } from '../../extension/server/api-client';
import { IRIS_CSV, json, mlops, ROOT, tempDataDir } from '../helpers/cli';
import { post, SAMPLE, startTestServer, trainIris, type TestServer } from '../helpers/server';
import { exampleCopyDir, tabularCsv } from '../helpers/tabular';

const SECTIONS = CARD_SECTIONS.map((name) => `## ${name}`);

const cardOf = (v: ModelVersion) => fs.readFileSync(path.join(path.dirname(v.path), 'card.md'), 'utf8');

describe('model cards: written at registration, served with a live section', () => {
  let dir = '';
  let server: TestServer;
  const version = (ref: string) => json<ModelVersion>(mlops(dir, ['models', 'show', ref, '--json']));
  const getCard = (model: string, v: string, headers = server.apiHeaders) =>
    fetch(`${server.url}/api/models/${model}/versions/${v}/card`, { headers });

  before(async () => {
    dir = tempDataDir();
    trainIris(dir);
    const penguins = mlops(dir, ['train', '-q', 'pipeline/examples/penguins/pipeline.ts']);
    assert.equal(penguins.code, 0, penguins.stderr);
    server = await startTestServer(dir, { MLOPS_MODEL: 'iris' });
  });
  after(() => server?.close());

  test('training iris writes card.md beside model.onnx with every section, the gate and the ethics answers', () => {
    const iris = version('iris/1');
    const card = cardOf(iris);
    for (const section of SECTIONS) assert.ok(card.includes(`\n${section}\n`), `${section} in\n${card}`);
    assert.match(card, /^# Model card: iris version 1\n/);
    assert.match(card, /A teaching example: classify iris flowers/);
    assert.match(card, new RegExp(`\\| [^|]*iris\\\\_dataset\\.csv \\| \`${iris.lineage.dataFiles[0].sha256}\` \\|`));
    assert.match(card, /Training rows: 120; evaluation rows: 30\./);
    assert.match(card, /\| Setosa \| \d+\.\d% \|/);
    assert.match(card, /Passed: every check held \(4\)\./);
    assert.match(card, /\| macro\\_f1 \| 0\.\d{4} \| &gt;= 0\.85 \| pass \|/);
    assert.match(card, /_No group reports/, 'iris has no categorical feature');
    assert.match(card, /6 of 6 questions answered/);
    assert.match(card, /Run artifacts: .*gate\.json/);
  });

  test('training penguins (regression) gives group gaps by island, sex and species, the largest highlighted', () => {
    const card = cardOf(version('penguins/1'));
    for (const section of SECTIONS) assert.ok(card.includes(`\n${section}\n`), section);
    for (const group of ['island', 'sex', 'species']) assert.ok(card.includes(`\n### ${group}\n`), group);
    assert.match(card, /\| (\*\*)?Biscoe(\*\*)? \| \d+ \| \d+\.\d{4} \|/);
    assert.match(card, /\| \(missing\) \| 2 \| \d+\.\d{4} \|/, 'too few rows to count in the gap: not highlighted');
    assert.equal((card.match(/\*\*Largest gap: MAE \d+\.\d{4}\*\* between/g) ?? []).length, 3);
    assert.match(card, /\| body\\_mass\\_g \| \d+\.\d{4} \|/, 'the target distribution');
    assert.match(card, /\| r2 \| 0\.\d{4} \| &gt;= 0\.75 \| pass \|/);
    assert.match(card, /4 of 6 questions answered/);
    assert.match(card, /- \[ \] Which decisions does a person review/);
  });

  test('GET …/card: text/markdown, with the served version’s drift and the note on feedback', async () => {
    const predict = await post(`${server.url}/predict`, SAMPLE, { 'x-request-id': 'card-1' });
    assert.equal(predict.status, 200, JSON.stringify(predict.body));
    const res = await getCard('iris', '1');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/markdown; charset=utf-8/);
    const card = await res.text();
    assert.ok(card.startsWith(cardOf(version('iris/1')).split('<!-- mlops:live -->')[0]), 'the stored sections as stored');
    assert.ok(!card.includes('<!-- mlops:live -->'));
    const live = card.slice(card.indexOf('## Live quality and drift'));
    assert.match(live, /Served by this server since \S+ \(as latest\)\./);
    assert.match(live, /Drift window: 2 of \d+ rows\./);
    assert.match(live, /\| petal\\_length \| numeric \| \d+\.\d{4} \|/);
    assert.match(live, /no ground-truth feedback for this version/);

    const penguins = await (await getCard('penguins', '1')).text();
    assert.match(penguins, /Not served by this server now \(it serves iris version 1\)/);

    // What "Open Model Card" in the extension fetches, through its API client and the data dir's token.
    const client = new ApiClient(() => server.url, server.apiToken);
    assert.match(await client.modelCard('iris', 1), /^# Model card: iris version 1\n[\s\S]*Served by this server since/);
    await assert.rejects(client.modelCard('iris', 9), /model 'iris' version 9 not found/);
  });

  test('with ground-truth feedback, the live section shows the live quality of the version', async () => {
    // SAMPLE is predicted Virginica, Versicolor: one label right, one wrong.
    const labels = [
      { requestId: 'card-1', row: 0, actual: 'Virginica' },
      { requestId: 'card-1', row: 1, actual: 'Virginica' },
    ];
    const r = await post(`${server.url}/feedback`, labels, server.apiHeaders);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const card = await (await getCard('iris', '1')).text();
    assert.match(card, /Live quality over 2 labelled predictions \(window \d+\); label delay p50 \d+ ms, max \d+ ms:/);
    assert.match(card, /accuracy 0\.5000, macro F1 0\.\d{4}; recall Virginica 0\.5000\./);
    assert.ok(!card.includes('no ground-truth feedback'));
  });

  test('unknown versions and models are 404s that name them; a bad version is a 400; the /api credential is required', async () => {
    const unknown = await getCard('iris', '9');
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: string }).error, /model 'iris' version 9 not found/);
    assert.equal((await getCard('nope', '1')).status, 404);
    assert.equal((await getCard('iris', 'x')).status, 400);
    assert.equal((await getCard('iris', '1', {})).status, 401);
  });

  test('mlops models register gives the import a card: its CSV and its checks, not enforced', async () => {
    const iris = version('iris/1');
    const features = ['--features', 'sepal_length,sepal_width,petal_length,petal_width'];
    const r = mlops(dir, ['models', 'register', iris.path, '--name', 'imported', '--data', IRIS_CSV, '--target', 'variety', ...features]);
    assert.equal(r.code, 0, r.stderr);
    const card = cardOf(version('imported/1'));
    for (const section of SECTIONS) assert.ok(card.includes(`\n${section}\n`), section);
    assert.match(card, /imported from \S*model\.onnx by cli/);
    assert.match(card, /Not enforced at registration \(import without --gate\): every check would have passed\./);
    assert.match(card, /_Not stated: add `card/);
    assert.equal((await getCard('imported', '1')).status, 200);
  });

  test('a version without card.md (registered before cards) is served a card rendered from its row', async () => {
    fs.rmSync(path.join(path.dirname(version('penguins/1').path), 'card.md'));
    const res = await getCard('penguins', '1');
    assert.equal(res.status, 200);
    const card = await res.text();
    for (const section of SECTIONS) assert.ok(card.includes(`\n${section}\n`), section);
    assert.match(card, /no stored card\.md/);
  });

  test('a classifier with categorical features: accuracy and mean recall per group, the largest gap in bold; a bad card is named', () => {
    const copy = exampleCopyDir();
    try {
      const data = path.join(copy, 'data.csv');
      fs.writeFileSync(data, tabularCsv('classification'));
      const pipeline = path.join(copy, 'pipeline.ts');
      const iris = fs.readFileSync(path.join(ROOT, 'pipeline', 'examples', 'iris', 'pipeline.ts'), 'utf8');
      fs.writeFileSync(
        pipeline,
        iris
          .replace(/^const FEATURES = .*$/m, "const FEATURES = ['length', 'colour', 'coated'];")
          .replace(/^const TARGET = .*$/m, "const TARGET = 'grade';"),
      );
      const r = mlops(dir, ['train', '-q', pipeline, '--param', `data=${data}`, '--param', 'model=graded']);
      assert.equal(r.code, 0, r.stderr);

      // A card the type check would refuse, in a pipeline run without one: the runner names the field, registers nothing.
      fs.writeFileSync(pipeline, fs.readFileSync(pipeline, 'utf8').replace(/^ {2}card: \{$/m, "  card: { owner: 'me',"));
      const bad = mlops(dir, ['train', '-q', pipeline, '--param', `data=${data}`, '--param', 'model=badcard']);
      assert.equal(bad.code, 1, bad.stderr);
      assert.match(bad.stderr, /pipeline \S+pipeline\.ts: card: unknown field 'owner' \(known: intendedUse, limitations, groups, ethics\)/);
      assert.notEqual(mlops(dir, ['models', 'show', 'badcard']).code, 0);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
    const card = cardOf(version('graded/1'));
    assert.match(card, /accuracy and mean recall per group/);
    for (const group of ['colour', 'coated']) assert.ok(card.includes(`\n### ${group}\n`), group);
    assert.match(
      card,
      /\| value \| rows \| accuracy \| mean recall \|\n\| --- \| --- \| --- \| --- \|\n\| (\*\*)?blue(\*\*)? \| \d+ \| [\d.]+ \| [\d.]+ \|/,
    );
    assert.equal((card.match(/\*\*Largest gap: accuracy [\d.]+\*\* between \w+ \(best\) and \w+ \(worst\)/g) ?? []).length, 2);
  });
});
