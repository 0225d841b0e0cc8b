import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunEvent } from '../../common/contract';
import { runToEnd } from '../../extension/commands/run-to-end';
import { ApiClient } from '../../extension/server/api-client';
import { EventStream } from '../../extension/server/event-stream';
import { FIXTURES, tempDataDir } from '../helpers/cli';
import { freePort } from '../helpers/net';
import { startTestServer, waitFor, type TestServer } from '../helpers/server';

const SLOW = path.join(FIXTURES, 'pipelines', 'slow-step.ts');
const FAILING = path.join(FIXTURES, 'pipelines', 'failing-step.ts');

/** "MLOps: Train"'s flow (extension/commands/run-to-end.ts) against the real server and runner. */
describe('the train flow always ends', () => {
  let server: TestServer;
  let api: ApiClient;
  const streams: EventStream[] = [];
  const stream = (target: ApiClient) => {
    const s = new EventStream(target);
    streams.push(s);
    s.start();
    return s;
  };
  before(async () => {
    server = await startTestServer(tempDataDir());
    api = new ApiClient(() => server.url, server.apiToken);
  });
  after(async () => {
    streams.forEach((s) => s.dispose());
    await server.close();
  });

  test('follows a run from its first event to the registered version', async () => {
    const seen: RunEvent['type'][] = [];
    const run = await runToEnd(api, stream(api), {}, { onEvent: (e) => seen.push(e.type) });
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(run.registered, { model: 'iris', version: 1 });
    assert.equal(seen[0], 'run.started');
    assert.equal(seen.at(-1), 'run.finished');
  });

  test('with no event stream at all, it polls the run to its end', async () => {
    const port = await freePort(); // nobody listens there
    const nowhere = new ApiClient(
      () => `http://127.0.0.1:${port}`,
      () => undefined,
    );
    const events = stream(nowhere);
    const run = await runToEnd(api, events, { pipeline: FAILING }, { pollMs: 100 });
    assert.equal(events.connected, false);
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', /the disk is on fire/);
  });

  test('when the stream drops mid-run, it falls back to polling', async () => {
    const events = stream(api);
    let dropped = false;
    const run = await runToEnd(
      api,
      events,
      { pipeline: SLOW, params: { seconds: 1 } },
      {
        pollMs: 100,
        onEvent: (e) => {
          if (e.type === 'run.started') {
            events.dispose(); // gone for good: no reconnection, no replay
            dropped = true;
          }
        },
      },
    );
    assert.ok(dropped);
    assert.equal(run.status, 'succeeded');
  });

  test('cancel ends the run, and the flow with it', async () => {
    const cancel = new AbortController();
    const began = Date.now();
    const run = await runToEnd(
      api,
      stream(api),
      { pipeline: SLOW, params: { seconds: 60 } },
      {
        onEvent: (e) => e.type === 'step.started' && cancel.abort(),
        signal: cancel.signal,
      },
    );
    assert.equal(run.status, 'cancelled');
    assert.ok(Date.now() - began < 20_000, 'well before the step would have ended');
    await waitFor('the runner to exit', async () => ((await api.status()).activeRuns.length === 0 ? true : undefined));
  });

  test('a server that stops answering ends the flow with a clear error', async () => {
    const port = await freePort();
    // Accepts the run, then goes away (as a server killed mid-run does).
    const vanishing = http.createServer((req, res) => {
      if (req.method !== 'POST' || req.url !== '/api/runs') return void res.destroy();
      res.on('finish', () => {
        vanishing.close();
        vanishing.closeAllConnections();
      });
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ runId: 'r-gone' }));
    });
    await new Promise<void>((r) => vanishing.listen(port, '127.0.0.1', r));
    const gone = new ApiClient(
      () => `http://127.0.0.1:${port}`,
      () => undefined,
    );
    const following = runToEnd(gone, stream(gone), {}, { pollMs: 50, unreachableMs: 500 });
    await assert.rejects(following, /the MLOps server at http:\/\/127\.0\.0\.1:\d+ is not reachable/);
  });

  test('a refused start rejects at once', async () => {
    const refused = runToEnd(api, stream(api), { pipeline: '/etc/passwd' });
    await assert.rejects(refused, /pipeline must be a \.ts or \.js module inside the project/);
  });
});
