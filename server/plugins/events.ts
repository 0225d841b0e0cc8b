import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ServerEvent } from '../../common/contract';
import type { EventBus } from '../event-bus';

/** Events kept for clients that reconnect with Last-Event-ID (a run's events and registry/serving changes). */
export const EVENT_BACKLOG = 500;
/** Reconnection delay the server asks clients for (the SSE `retry:` field), in milliseconds. */
export const EVENT_RETRY_MS = 1000;

/**
 * GET /api/events: Server-Sent Events — runs, registry changes, serving changes, stats each second.
 * Every event has an id `<boot>-<sequence>`; a client that reconnects with `Last-Event-ID` from this
 * server process first gets the events it missed that are still in the backlog. Stats are not kept:
 * a second-by-second snapshot is stale once missed, and the next one comes within a second.
 */
export async function eventRoutes(app: FastifyInstance, opts: { bus: EventBus }): Promise<void> {
  const open = new Set<ServerResponse>();
  const boot = Date.now().toString(36);
  const backlog: { seq: number; frame: string }[] = [];
  let seq = 0;
  const unsubscribe = opts.bus.subscribe((event: ServerEvent) => {
    seq++;
    const frame = `id: ${boot}-${seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
    if (event.type !== 'stats') {
      backlog.push({ seq, frame });
      if (backlog.length > EVENT_BACKLOG) backlog.shift();
    }
    for (const res of open) res.write(frame);
  });
  // Streams never finish on their own: end them so that close() does not wait for ever.
  app.addHook('preClose', async () => {
    unsubscribe();
    for (const res of open) res.end();
  });
  const summary = 'Live events (text/event-stream); resumes after Last-Event-ID';
  app.get('/api/events', { schema: { tags: ['management'], summary } }, (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${EVENT_RETRY_MS}\n: connected\n\n`);
    const after = missedAfter(request.headers['last-event-id'], boot);
    if (after !== null) for (const e of backlog) if (e.seq > after) res.write(e.frame);
    open.add(res);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    request.raw.on('close', () => {
      clearInterval(heartbeat);
      open.delete(res);
    });
  });
}

/** The sequence number after which a reconnecting client missed events, or null (none given, or another server process's id). */
function missedAfter(lastEventId: string | string[] | undefined, boot: string): number | null {
  const m = typeof lastEventId === 'string' ? /^([0-9a-z]+)-(\d{1,15})$/.exec(lastEventId) : null;
  return m && m[1] === boot ? Number(m[2]) : null;
}
