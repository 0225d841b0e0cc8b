import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { PredictionLogEntry } from '../../common/contract';
import { mlops, tempDataDir } from '../helpers/cli';
import { SAMPLE, post, startTestServer, trainIris } from '../helpers/server';

describe('prediction log through the server and mlops logs export', () => {
  test('every prediction is logged with its request id; redacted fields never stored; CSV and JSONL export', async () => {
    const dir = tempDataDir();
    trainIris(dir);
    const s = await startTestServer(dir, { MLOPS_LOG_REDACT: 'sepal_width' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await post(`${s.url}/predict`, SAMPLE, { 'x-request-id': `req-${i}` });
      assert.equal(r.status, 200);
      ids.push(r.headers.get('x-request-id')!);
    }
    await post(
      `${s.url}/v2/models/iris/infer`,
      { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }] },
      { 'x-request-id': 'oip-1' },
    );
    await s.close(); // flushes

    const jsonl = mlops(dir, ['logs', 'export', '--format', 'jsonl']);
    assert.equal(jsonl.code, 0, jsonl.stderr);
    const entries = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as PredictionLogEntry);
    assert.equal(entries.length, 11);
    assert.deepEqual([...new Set(entries.map((e) => e.requestId))], [...ids, 'oip-1']);
    assert.deepEqual(entries[0].inputs, { sepal_length: 6.7, petal_length: 5.2, petal_width: 2.3 });
    assert.equal(entries[0].label, 'Virginica');
    assert.equal(entries[10].label, 'Setosa');
    assert.ok(entries.every((e) => e.model === 'iris' && e.version === 1 && e.latencyMs > 0 && e.probabilities?.length === 3));

    const file = path.join(dir, 'export.csv');
    const csv = mlops(dir, ['logs', 'export', '--out', file]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.match(csv.stderr, /11 predictions exported/);
    const rows = parse(fs.readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
    assert.equal(rows.length, 11);
    assert.ok(!('sepal_width' in rows[0]), 'redacted column absent');
    assert.equal(rows[1].label, 'Versicolor');
    assert.equal(rows[1].petal_length, '4.4');

    const bad = mlops(dir, ['logs', 'export', '--since', 'yesterday']);
    assert.equal(bad.code, 2, 'a usage error');
    assert.match(bad.stderr, /--since must be an ISO time/);
  });

  test('export reads without writing: an empty data dir gets a header and no database file', () => {
    const dir = tempDataDir();
    const csv = mlops(dir, ['logs', 'export']);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout, 'at,request_id,model,version,label,probabilities,latency_ms,values\r\n');
    assert.match(csv.stderr, /^0 predictions exported/);
    assert.deepEqual(fs.readdirSync(dir), [], 'no predictions.sqlite, no writer thread to have made one');
  });

  test('LOG_PREDICTIONS=false keeps no prediction', async () => {
    const dir = tempDataDir();
    trainIris(dir);
    const s = await startTestServer(dir, { LOG_PREDICTIONS: 'false' });
    assert.equal((await post(`${s.url}/predict`, SAMPLE)).status, 200);
    const res = await fetch(`${s.url}/api/status`, { headers: s.apiHeaders });
    const status = (await res.json()) as { predictionLog: { enabled: boolean } };
    assert.equal(status.predictionLog.enabled, false);
    await s.close();
    assert.ok(!fs.existsSync(path.join(dir, 'predictions.sqlite')));
  });
});
