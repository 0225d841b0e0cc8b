import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import type { FeedbackResponse, MonitoringSnapshot, RunRecord } from '../../common/contract';
import type { FeedbackProblem } from '../../common/errors';
import { PREDICTIONS_DB_FILE } from '../../server/prediction-log';
import { IRIS_CSV, json, mlops, mlopsAsync, tempDataDir } from '../helpers/cli';
import { SAMPLE, getJson, post, startTestServer, trainIris, waitFor, type TestServer } from '../helpers/server';

const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a}, expected ${b}`);

type ErrorBody = { error: string; code: string; details?: { problems: FeedbackProblem[] } };

function labelledInDb(dir: string): number {
  const db = new Database(path.join(dir, PREDICTIONS_DB_FILE), { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM feedback').pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('ground-truth feedback and live quality (iris, the real server)', () => {
  const dir = tempDataDir();
  let s: TestServer;
  before(async () => {
    trainIris(dir);
    s = await startTestServer(dir);
  });
  after(() => s.close());

  const feedback = (body: unknown, headers = s.apiHeaders) => post(`${s.url}/feedback`, body, headers);
  const monitoring = () => getJson<MonitoringSnapshot>(`${s.url}/api/monitoring`, s.apiHeaders);

  test('labels join the predictions they name, at once; live quality equals the hand computation; duplicates are idempotent', async () => {
    // Predicted: Virginica, Versicolor (SAMPLE) and Setosa; posted before the log's next flush.
    assert.equal((await post(`${s.url}/predict`, SAMPLE, { 'x-request-id': 'q-1' })).status, 200);
    assert.equal((await post(`${s.url}/predict`, [SETOSA], { 'x-request-id': 'q-2' })).status, 200);
    const labels = [
      { requestId: 'q-1', row: 0, actual: 'Virginica' }, // right
      { requestId: 'q-1', row: 1, actual: 'Virginica' }, // predicted Versicolor: wrong
      { requestId: 'q-2', row: 0, actual: 'Setosa' }, // right
    ];
    const r = await feedback(labels);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { accepted: 3, duplicates: 0 } satisfies FeedbackResponse);

    const q = (await monitoring()).quality!;
    assert.equal(q.model, 'iris');
    assert.equal(q.version, 1);
    assert.equal(q.labelled, 3);
    assert.equal(q.windowSize, 500);
    assert.equal(q.regression, null);
    // Accuracy 2/3. F1: Virginica 2·1/(2·1 + 0 + 1) = 2/3, Versicolor 0 (one false positive), Setosa 1.
    close(q.classification!.accuracy, 2 / 3, 'accuracy');
    close(q.classification!.macroF1, (2 / 3 + 0 + 1) / 3, 'macro F1');
    assert.deepEqual(q.classification!.recall, { Setosa: 1, Virginica: 0.5 });
    assert.ok(q.labelDelayMs && q.labelDelayMs.p50 >= 0 && q.labelDelayMs.max >= q.labelDelayMs.p50);

    const again = await feedback([...labels, labels[0]]);
    assert.deepEqual(again.body, { accepted: 0, duplicates: 4 });
    assert.equal((await monitoring()).quality!.labelled, 3);

    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /^mlops_live_accuracy\{model="iris",version="1"\} 0\.666666/m);
    assert.match(metrics, /^mlops_live_recall\{model="iris",version="1",class="Virginica"\} 0\.5$/m);
    assert.match(metrics, /^mlops_live_labelled_rows\{model="iris",version="1"\} 3$/m);
    assert.match(metrics, /^mlops_feedback_total\{outcome="accepted"\} 3$/m);
    assert.match(metrics, /^mlops_feedback_total\{outcome="duplicate"\} 4$/m);
    assert.match(metrics, /^mlops_label_delay_seconds_count\{model="iris"\} 3$/m);
  });

  test('refused entries are named (index, id, row, why) and nothing of the batch is stored', async () => {
    await post(`${s.url}/predict`, SAMPLE, { 'x-request-id': 'r-1' });
    const r = await feedback([
      { requestId: 'r-1', row: 0, actual: 'Virginica' },
      { requestId: 'nobody', row: 0, actual: 'Setosa' },
      { requestId: 'r-1', row: 2, actual: 'Setosa' },
      { requestId: 'r-1', row: 1, actual: 'Tulip' },
    ]);
    assert.equal(r.status, 422);
    const body = r.body as ErrorBody;
    assert.equal(body.code, 'BAD_FEEDBACK');
    assert.deepEqual(
      body.details!.problems.map((p) => [p.index, p.requestId, p.row]),
      [
        [1, 'nobody', 0],
        [2, 'r-1', 2],
        [3, 'r-1', 1],
      ],
    );
    assert.match(body.error, /entry 1 \(requestId 'nobody', row 0\): no logged prediction has this request id/);
    assert.match(body.error, /entry 2 \(requestId 'r-1', row 2\): request has 2 rows \(0 to 1\)/);
    assert.match(body.error, /entry 3 \(requestId 'r-1', row 1\): "Tulip" is not a class of iris v1 \(Setosa, Versicolor, Virginica\)/);
    assert.equal((await monitoring()).quality!.labelled, 3, 'the good entry of the refused batch was not stored');

    // A different label for a labelled row: 409, naming it and what is stored; the batch is not stored.
    const conflict = await feedback([
      { requestId: 'r-1', row: 0, actual: 'Virginica' },
      { requestId: 'q-1', row: 1, actual: 'Versicolor' },
    ]);
    assert.equal(conflict.status, 409);
    const c = conflict.body as ErrorBody;
    assert.equal(c.code, 'FEEDBACK_CONFLICT');
    assert.deepEqual(
      c.details!.problems.map((p) => [p.index, p.requestId, p.row]),
      [[1, 'q-1', 1]],
    );
    assert.match(c.error, /already labelled "Virginica", not "Versicolor"/);
    assert.equal(labelledInDb(dir), 3);

    // The body's shape: 400 from the schema, before any lookup.
    for (const bad of [[], [{ requestId: 'r-1', row: -1, actual: 'Setosa' }], [{ requestId: 'r-1', row: 0, actual: 'Setosa', x: 1 }], {}]) {
      assert.equal((await feedback(bad)).status, 400, JSON.stringify(bad));
    }
    const tooMany = Array.from({ length: 10_001 }, () => ({ requestId: 'r-1', row: 0, actual: 'Setosa' }));
    assert.equal((await feedback(tooMany)).status, 400, 'more entries than MLOPS_MAX_ROWS');
    // Its own scope: no credential, no feedback.
    const anonymous = await feedback([{ requestId: 'r-1', row: 0, actual: 'Virginica' }], {});
    assert.equal(anonymous.status, 401);
  });

  test('mlops feedback import: refused lines named by CSV line, the rest stored in batches', async () => {
    await post(`${s.url}/predict`, [SETOSA, SETOSA, SETOSA], { 'x-request-id': 'csv-1' });
    const file = path.join(dir, 'labels.csv');
    fs.writeFileSync(
      file,
      [
        'id,truth,n',
        'csv-1,Setosa,0', // line 2
        'csv-1,Setosa,1',
        'unknown-id,Setosa,0', // line 4: refused by the server
        'csv-1,,2', // line 5: empty label, refused before sending
        'csv-1,Setosa,x', // line 6: bad row
        'csv-1,Virginica,2', // line 7: stored
      ].join('\n') + '\n',
    );
    const args = ['feedback', 'import', file, '--id-column', 'id', '--actual-column', 'truth', '--row-column', 'n', '--batch', '2'];
    const r = await mlopsAsync(dir, [...args, '--url', `${s.url}/feedback`]).done;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${file}:4: requestId 'unknown-id', row 0: no logged prediction`));
    assert.match(r.stderr, new RegExp(`${file}:5: empty truth`));
    assert.match(r.stderr, new RegExp(`${file}:6: n must be a whole number >= 0, got 'x'`));
    assert.match(r.stderr, /3 labels stored, 0 already stored, 3 refused \(6 lines\)/);
    assert.equal((await monitoring()).quality!.labelled, 6);

    const noColumn = await mlopsAsync(dir, ['feedback', 'import', file, '--id-column', 'request', '--actual-column', 'truth']).done;
    assert.equal(noColumn.code, 1);
    assert.match(noColumn.stderr, /labels\.csv:1: no column 'request'/);
  });

  test('mlops logs export --labeled writes a training CSV the iris pipeline trains on', async () => {
    // Every dataset row predicted in requests of 25, and labelled with its true class.
    const rows = parse(fs.readFileSync(IRIS_CSV, 'utf8'), { columns: true, cast: true }) as Record<string, number | string>[];
    const entries: { requestId: string; row: number; actual: string }[] = [];
    for (let i = 0; i < rows.length; i += 25) {
      const chunk = rows.slice(i, i + 25);
      const records = chunk.map(({ variety: _, ...features }) => features);
      assert.equal((await post(`${s.url}/predict`, records, { 'x-request-id': `ds-${i}` })).status, 200);
      chunk.forEach((row, k) => entries.push({ requestId: `ds-${i}`, row: k, actual: String(row.variety) }));
    }
    assert.deepEqual((await feedback(entries)).body, { accepted: rows.length, duplicates: 0 });

    const out = path.join(dir, 'labelled.csv');
    const exported = await mlopsAsync(dir, ['logs', 'export', '--labeled', '--out', out]).done;
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, new RegExp(`${rows.length + 6} labelled predictions of iris exported`));
    const csv = parse(fs.readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[];
    assert.deepEqual(Object.keys(csv[0]), ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'variety']);
    assert.deepEqual(csv[0], { sepal_length: '6.7', sepal_width: '3.5', petal_length: '5.2', petal_width: '2.3', variety: 'Virginica' });
    assert.equal(csv.length, rows.length + 6);

    const train = mlops(dir, ['train', '--param', `data=${out}`, '--json']);
    assert.equal(train.code, 0, train.stderr);
    const run = json<RunRecord>(train);
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(run.registered, { model: 'iris', version: 2 });

    const wrong = await mlopsAsync(dir, ['logs', 'export', '--labeled', '--format', 'jsonl']).done;
    assert.equal(wrong.code, 2);
  });

  test('live quality survives a restart; retention drops labels with their predictions', async () => {
    // Version 2 (trained above) is served now: version 1's quality is asked of the tracker, as the challenger does.
    const was = s.quality.quality('iris', 1)!;
    assert.equal(was.labelled, 156);
    await s.close();
    s = await startTestServer(dir, { MLOPS_MODEL: 'iris/1' });
    const restarted = await waitFor('quality after restart', async () => (await monitoring()).quality ?? undefined);
    assert.deepEqual(restarted, was);
    await s.close();

    // Keep the newest 100 predictions: the older labels go with theirs and the window shrinks.
    s = await startTestServer(dir, { MLOPS_MODEL: 'iris/1', MLOPS_LOG_MAX_ROWS: '100' });
    await post(`${s.url}/predict`, [SETOSA]); // a write: the timer applies retention after it
    const shrunk = await waitFor('retention', async () => {
      const q = (await monitoring()).quality;
      return q && q.labelled < was.labelled ? q : undefined;
    });
    assert.equal(shrunk.labelled, labelledInDb(dir));
    assert.ok(shrunk.labelled <= 100, `${shrunk.labelled} labels left`);
  });
});

describe('feedback with the prediction log off, and its own credentials', () => {
  test('409 says the log is off; MLOPS_FEEDBACK_TOKEN is accepted, nothing else', async () => {
    const dir = tempDataDir();
    trainIris(dir);
    const s = await startTestServer(dir, { LOG_PREDICTIONS: 'false', MLOPS_FEEDBACK_TOKEN: 'fb-secret' });
    try {
      const entry = [{ requestId: 'x', row: 0, actual: 'Setosa' }];
      const r = await post(`${s.url}/feedback`, entry, { authorization: 'Bearer fb-secret' });
      assert.equal(r.status, 409);
      assert.deepEqual(r.body, {
        error: 'feedback needs the prediction log, which is off (LOG_PREDICTIONS=false)',
        code: 'PREDICTION_LOG_OFF',
      });
      assert.equal((await post(`${s.url}/feedback`, entry, { authorization: 'Bearer wrong' })).status, 401);
      assert.equal((await post(`${s.url}/feedback`, entry, s.apiHeaders)).status, 409, "the data dir's token too");
      assert.equal((await getJson<MonitoringSnapshot>(`${s.url}/api/monitoring`, s.apiHeaders)).quality, null);
    } finally {
      await s.close();
    }
  });
});

describe('feedback for a regression model (penguins)', () => {
  test('MAE and RMSE from the answered values; a label that is not a number is refused', async () => {
    const dir = tempDataDir();
    const trained = mlops(dir, ['train', 'pipeline/examples/penguins/pipeline.ts', '-q']);
    assert.equal(trained.code, 0, trained.stderr);
    const s = await startTestServer(dir);
    try {
      const records = [
        { species: 'Adelie', island: 'Torgersen', bill_length_mm: 39.1, bill_depth_mm: 18.7, flipper_length_mm: 181, sex: 'male' },
        { species: 'Gentoo', island: 'Biscoe', bill_length_mm: 46.1, bill_depth_mm: 13.2, flipper_length_mm: 211, sex: 'female' },
      ];
      const answered = (await post(`${s.url}/predict`, records, { 'x-request-id': 'p-1' })).body as { body_mass_g: number }[];
      const actual = [3700, 4500];
      const r = await post(
        `${s.url}/feedback`,
        actual.map((a, row) => ({ requestId: 'p-1', row, actual: a })),
        s.apiHeaders,
      );
      assert.deepEqual(r.body, { accepted: 2, duplicates: 0 });
      const errors = answered.map((a, i) => a.body_mass_g - actual[i]);
      const q = (await getJson<MonitoringSnapshot>(`${s.url}/api/monitoring`, s.apiHeaders)).quality!;
      assert.equal(q.classification, null);
      close(q.regression!.mae, (Math.abs(errors[0]) + Math.abs(errors[1])) / 2, 'MAE');
      close(q.regression!.rmse, Math.sqrt((errors[0] ** 2 + errors[1] ** 2) / 2), 'RMSE');

      await post(`${s.url}/predict`, records, { 'x-request-id': 'p-2' });
      const bad = await post(`${s.url}/feedback`, [{ requestId: 'p-2', row: 1, actual: 'heavy' }], s.apiHeaders);
      assert.equal(bad.status, 422);
      assert.match(
        (bad.body as ErrorBody).error,
        /entry 0 \(requestId 'p-2', row 1\): penguins v1 is a regression: actual must be a finite number/,
      );
    } finally {
      await s.close();
    }
  });
});
