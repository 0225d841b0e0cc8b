import type { FastifyInstance } from 'fastify';
import type { DatabaseHealth } from '../monitoring/database-health';
import type { ModelHolder } from '../serving/model-holder';

/**
 * Liveness and readiness, plus the Open Inference Protocol's health and server metadata. Ready: a
 * model is loaded and the database is ready as MLOPS_READY_DATABASE says (database-health.ts: by
 * default, it has answered since the start; an outage afterwards shows in the body, database.reachable
 * false, and keeps the replica ready).
 */
export async function healthRoutes(
  app: FastifyInstance,
  opts: { holder: ModelHolder; database: DatabaseHealth; version: string },
): Promise<void> {
  const ready = () => opts.holder.current() !== null && opts.database.ready();
  const readiness = { schema: { hide: false, tags: ['health'] } };
  app.get('/healthz', readiness, async () => ({ live: true }));
  app.get('/readyz', readiness, async (_req, reply) => {
    const database = opts.database.current();
    if (ready()) return { ready: true, model: opts.holder.current()!.info.model, version: opts.holder.current()!.info.version, database };
    const error = opts.database.ready() ? (opts.holder.error() ?? 'loading') : `database unreachable: ${database.error ?? 'no answer yet'}`;
    return reply.status(503).send({ ready: false, error, database });
  });
  app.get('/v2/health/live', readiness, async () => ({ live: true }));
  app.get('/v2/health/ready', readiness, async (_req, reply) => (ready() ? { ready: true } : reply.status(503).send({ ready: false })));
  app.get('/v2', readiness, async () => ({ name: 'mlops-template', version: opts.version, extensions: [] }));
}
