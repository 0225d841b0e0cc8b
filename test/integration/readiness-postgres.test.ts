import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mlops, tempDataDir } from '../helpers/cli';
import { createTestDatabase, needsPostgres, pgProxy } from '../helpers/postgres';
import { SAMPLE, post, startTestServer, waitFor } from '../helpers/server';

// One replica cut off from PostgreSQL (a partition between it and the database, through a TCP proxy
// the test breaks), under each MLOPS_READY_DATABASE policy: `once` keeps it ready and reports the
// outage, `always` takes it out of the balancer until the database answers again. Either way it keeps
// answering from the loaded model.
describe('readiness when one replica loses PostgreSQL', { skip: needsPostgres() }, () => {
  for (const policy of ['once', 'always'] as const) {
    test(`MLOPS_READY_DATABASE=${policy}`, async (t) => {
      const db = await createTestDatabase('ready');
      const dir = tempDataDir();
      const trained = mlops(dir, ['train', '-q'], { MLOPS_DATABASE_URL: db.url });
      assert.equal(trained.code, 0, trained.stderr);
      const proxy = await pgProxy(new URL(db.url));
      const server = await startTestServer(dir, {
        MLOPS_DATABASE_URL: proxy.url,
        MLOPS_READY_DATABASE: policy,
        MLOPS_DB_PING_MS: '200',
      });
      // The server first (its log's last rows need the database), then the proxy, then the database.
      t.after(async () => {
        await server.close();
        await proxy.close();
        await db.drop();
      });
      const readyz = async () => {
        const res = await fetch(`${server.url}/readyz`);
        return { status: res.status, body: (await res.json()) as { error?: string; database: { reachable: boolean } } };
      };
      const first = await readyz();
      assert.equal(first.status, 200, JSON.stringify(first.body));

      proxy.cut();
      const down = await waitFor('the outage in /readyz', async () => {
        const r = await readyz();
        return r.body.database.reachable ? undefined : r;
      });
      if (policy === 'once') assert.equal(down.status, 200, 'still ready: the outage is reported, not failed');
      else {
        assert.equal(down.status, 503, 'unready while it cannot reach the database');
        assert.match(down.body.error ?? '', /^database unreachable: /);
      }
      const answer = await post(`${server.url}/predict`, SAMPLE);
      assert.equal(answer.status, 200, 'answered from the loaded model either way');

      proxy.restore();
      const back = await waitFor('the database back in /readyz', async () => {
        const r = await readyz();
        return r.body.database.reachable ? r : undefined;
      });
      assert.equal(back.status, 200);
      await waitFor(
        'the rows logged during the outage written',
        () => ((server.log?.stats().written ?? 0) >= SAMPLE.length ? true : undefined),
        20_000,
      );
    });
  }

  test('a value other than once or always is refused at start with the setting named', async () => {
    await assert.rejects(
      startTestServer(tempDataDir(), { MLOPS_READY_DATABASE: 'sometimes' }),
      /MLOPS_READY_DATABASE must be once or always, got 'sometimes'/,
    );
  });
});
