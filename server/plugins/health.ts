import type { FastifyInstance } from 'fastify';
import type { ModelHolder } from '../model-holder';

/** Liveness and readiness, plus the Open Inference Protocol's health and server metadata. */
export async function healthRoutes(app: FastifyInstance, opts: { holder: ModelHolder; version: string }): Promise<void> {
  const ready = () => opts.holder.current() !== null;
  const readiness = { schema: { hide: false, tags: ['health'] } };
  app.get('/healthz', readiness, async () => ({ live: true }));
  app.get('/readyz', readiness, async (_req, reply) => {
    if (ready()) return { ready: true, model: opts.holder.current()!.info.model, version: opts.holder.current()!.info.version };
    return reply.status(503).send({ ready: false, error: opts.holder.error() ?? 'loading' });
  });
  app.get('/v2/health/live', readiness, async () => ({ live: true }));
  app.get('/v2/health/ready', readiness, async (_req, reply) => (ready() ? { ready: true } : reply.status(503).send({ ready: false })));
  app.get('/v2', readiness, async () => ({ name: 'mlops-template', version: opts.version, extensions: [] }));
}
