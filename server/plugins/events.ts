import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { EventBus } from '../event-bus';

/** GET /api/events: Server-Sent Events — runs, registry changes, serving changes, stats each second. */
export async function eventRoutes(app: FastifyInstance, opts: { bus: EventBus }): Promise<void> {
  const open = new Set<ServerResponse>();
  // Streams never finish on their own: end them so that close() does not wait for ever.
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });
  app.get('/api/events', { schema: { tags: ['management'], summary: 'Live events (text/event-stream)' } }, (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': connected\n\n');
    open.add(res);
    const unsubscribe = opts.bus.subscribe((event) => {
      res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    request.raw.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      open.delete(res);
    });
  });
}
