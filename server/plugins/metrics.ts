import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { ServerMetrics } from '../monitoring/server-metrics';

/** GET /metrics in Prometheus text format. */
export async function metricsRoute(
  app: FastifyInstance,
  opts: { metrics: ServerMetrics; auth: onRequestHookHandler | null },
): Promise<void> {
  app.get(
    '/metrics',
    { schema: { tags: ['monitoring'], summary: 'Prometheus metrics' }, ...(opts.auth ? { onRequest: opts.auth } : {}) },
    async (_req, reply) => {
      reply.type(opts.metrics.registry.contentType);
      return opts.metrics.registry.metrics();
    },
  );
}
