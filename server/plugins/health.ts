import type { FastifyInstance } from 'fastify';
import type { DatabaseHealth } from '../monitoring/database-health';
import type { ModelHolder } from '../serving/model-holder';

/**
 * Liveness and readiness, plus the Open Inference Protocol's health and server metadata. Ready: a
 * model is loaded and the database has answered since the start. A later database outage shows in the
 * body (database.reachable false) but keeps the replica ready: it serves from the loaded model, and
 * failing every replica's readiness at once would turn a database blip into a full outage.
 */
export async function healthRoutes(
  app: FastifyInstance,
  opts: { holder: ModelHolder; database: DatabaseHealth; version: string },
): Promise<void> {
  const ready = () => opts.holder.current() !== null && opts.database.reachedOnce();
  const readiness = { schema: { hide: false, tags: ['health'] } };
  app.get('/healthz', readiness, async () => ({ live: true }));
  app.get('/readyz', readiness, async (_req, reply) => {
    const database = opts.database.current();
    if (ready()) return { ready: true, model: opts.holder.current()!.info.model, version: opts.holder.current()!.info.version, database };
    const error = opts.database.reachedOnce()
      ? (opts.holder.error() ?? 'loading')
      : `database unreachable: ${database.error ?? 'no answer yet'}`;
    return reply.status(503).send({ ready: false, error, database });
  });
  app.get('/v2/health/live', readiness, async () => ({ live: true }));
  app.get('/v2/health/ready', readiness, async (_req, reply) => (ready() ? { ready: true } : reply.status(503).send({ ready: false })));
  app.get('/v2', readiness, async () => ({ name: 'mlops-template', version: opts.version, extensions: [] }));
}
