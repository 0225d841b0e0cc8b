import type { FastifyError, FastifyInstance } from 'fastify';
import { isMlopsError } from '../../common/errors';

/** One error shape for every route: `{"error": "...", "code": "..."}`, 4xx for the caller's mistakes. */
export function errorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (isMlopsError(err)) {
      if (err.status >= 500) request.log.error({ err }, err.message);
      return reply.status(err.status).send({ error: err.message, code: err.code });
    }
    if (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED') {
      return reply.status(503).header('retry-after', '1').send({ error: 'the registry database is locked by another process; try again', code: 'REGISTRY_BUSY' });
    }
    const status = err.statusCode ?? 500;
    if (status < 500) {
      // Fastify's own: bad JSON (400), wrong content type (415), body too large (413), …
      const message = err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'the body is empty: send JSON' : err.message;
      return reply.status(status).send({ error: message, code: err.code });
    }
    request.log.error({ err }, 'unexpected error');
    return reply.status(500).send({ error: 'internal error (see the server log)', code: 'INTERNAL' });
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}`, code: 'NOT_FOUND' }));
}
