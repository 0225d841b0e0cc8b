import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServerEvent } from '../../common/contract';
import { ApiClient } from '../../extension/server/api-client';
import { EventStream } from '../../extension/server/event-stream';
import { EVENT_BACKLOG, EVENT_RETRY_MS } from '../../server/plugins/events';
import { tempDataDir } from '../helpers/cli';
import { startTestServer, waitFor, type TestServer } from '../helpers/server';
import { subscribe } from '../helpers/sse';

// The test's own events carry a '#' mark: the server may publish registry events of its own meanwhile.
const registry = (at: string): ServerEvent => ({ type: 'registry', at: `#${at}` });
const ats = (events: ServerEvent[]) => events.flatMap((e) => (e.type === 'registry' && e.at.startsWith('#') ? [e.at.slice(1)] : []));

describe('event stream: ids, Last-Event-ID replay, reconnection', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(tempDataDir());
  });
  after(() => server.close());

  test('a client reconnecting with Last-Event-ID gets what it missed, once, and no stale stats', async () => {
    const first = await subscribe(server.url, server.apiHeaders);
    assert.equal(await waitFor('retry', () => first.retry()), EVENT_RETRY_MS);
    server.bus.publish(registry('a'));
    server.bus.publish(registry('b'));
    await waitFor('a and b', () => (ats(first.events).length === 2 ? true : undefined));
    const lastId = first.ids[first.events.findIndex((e) => e.type === 'registry' && e.at === '#b')];
    assert.match(lastId, /^[0-9a-z]+-\d+$/);
    await first.close();

    server.bus.publish(registry('c'));
    const latencyMs = { p50: 0, p95: 0, p99: 0 };
    const rates = { requestsPerSecond: 0, errorsPerSecond: 0, rowsPerSecond: 0 };
    const stats = { at: 'x', ...rates, latencyMs, predictionsByClass: {}, totalRequests: 0, totalErrors: 0 };
    server.bus.publish({ type: 'stats', stats });
    server.bus.publish(registry('d'));
    const second = await subscribe(server.url, { ...server.apiHeaders, 'last-event-id': lastId });
    server.bus.publish(registry('e'));
    await waitFor('e', () => (ats(second.events).includes('e') ? true : undefined));
    assert.deepEqual(ats(second.events), ['c', 'd', 'e']);
    assert.equal(second.events.filter((e) => e.type === 'stats' && e.stats.at === 'x').length, 0, 'stats are not replayed');
    const seqs = second.ids.map((id) => Number(id.split('-')[1]));
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
      'ids increase',
    );
    await second.close();
  });

  test('no replay without Last-Event-ID, for another server process id, or for garbage', async () => {
    server.bus.publish(registry('old'));
    const ids = ['zzzz-1', '../../etc', `x-${'9'.repeat(40)}`];
    for (const headers of [{}, ...ids.map((id) => ({ 'last-event-id': id }))] as Record<string, string>[]) {
      const s = await subscribe(server.url, { ...server.apiHeaders, ...headers });
      server.bus.publish(registry('new'));
      await waitFor('new', () => (ats(s.events).includes('new') ? true : undefined));
      assert.deepEqual(ats(s.events), ['new'], JSON.stringify(headers));
      await s.close();
    }
  });

  test('the backlog is bounded: a client far behind gets the newest EVENT_BACKLOG events', async () => {
    const s = await subscribe(server.url, server.apiHeaders);
    server.bus.publish(registry('mark'));
    await waitFor('mark', () => (ats(s.events).includes('mark') ? true : undefined));
    const markId = s.ids[s.events.findIndex((e) => e.type === 'registry' && e.at === '#mark')];
    await s.close();
    for (let i = 0; i < EVENT_BACKLOG + 20; i++) server.bus.publish(registry(`n${i}`));
    const late = await subscribe(server.url, { ...server.apiHeaders, 'last-event-id': markId });
    await waitFor('the replay', () => (ats(late.events).length === EVENT_BACKLOG ? true : undefined));
    assert.equal(ats(late.events)[0], 'n20');
    assert.equal(ats(late.events).at(-1), `n${EVENT_BACKLOG + 19}`);
    await late.close();
  });

  test("the extension's EventStream loses no event across a dropped connection", async () => {
    const stream = new EventStream(new ApiClient(() => server.url, server.apiToken));
    const seen: string[] = [];
    const transitions: boolean[] = [];
    stream.onEvent((e) => seen.push(...ats([e])));
    stream.onConnected((c) => transitions.push(c));
    stream.start();
    try {
      await waitFor('connected', () => (stream.connected ? true : undefined));
      server.bus.publish(registry('before'));
      await waitFor('before', () => (seen.includes('before') ? true : undefined));
      stream.kick(); // drops the connection; it comes back with Last-Event-ID
      server.bus.publish(registry('during'));
      await waitFor('connected again', () => (transitions.length === 3 ? true : undefined));
      server.bus.publish(registry('after'));
      await waitFor('after', () => (seen.includes('after') ? true : undefined));
      assert.deepEqual(transitions, [true, false, true]);
      assert.deepEqual(seen, ['before', 'during', 'after']);
    } finally {
      stream.dispose();
    }
  });
});
