import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import type { LoadTestResult } from '../../common/contract';
import { apiTokenPath } from '../../common/api-token';
import { mlopsAsync, tempDataDir } from '../helpers/cli';
import { trainedServer } from '../helpers/server';

describe('mlops loadtest', () => {
  const ctx = trainedServer();

  test('with no --body it sends records of the served model, fetched from /api with the data dir token', async () => {
    const out = `${tempDataDir()}/result.json`;
    const args = ['loadtest', '--url', `${ctx.server.url}/predict`, '-d', '1', '-c', '2', '-r', '3', '--json', '--out', out];
    const run = mlopsAsync(ctx.dir, args);
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as LoadTestResult;
    assert.ok(result.requests > 0);
    assert.equal(result.errors, 0);
    assert.equal(result.rowsPerRequest, 3);
    assert.ok(fs.existsSync(out));
  });

  test('without the token (another data dir) the sample request is refused with one clear line', async () => {
    const elsewhere = tempDataDir();
    const r = await mlopsAsync(elsewhere, ['loadtest', '--url', `${ctx.server.url}/predict`, '-d', '1']).done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\/api\/status answered 401 to the status request: .*authentication required for api/);
    assert.ok(!fs.existsSync(apiTokenPath(elsewhere)), 'the CLI never creates a token');
  });
});
