import type { FastifyError, FastifyInstance } from 'fastify';
import { isMlopsError } from '../../common/errors';
import { translateSqliteError } from '../../common/sqlite';

/** Errors that mean "a database is locked by another process" (or out of reach): the client may retry in a second. */
const BUSY = new Set(['REGISTRY_BUSY', 'PREDICTION_LOG_BUSY', 'PREDICTION_LOG_DOWN']);

/** One error shape for every route: `{"error": "...", "code": "..."}`, 4xx for the caller's mistakes. */
export function errorHandling(app: FastifyInstance, registryFile: string): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    // SQLite's own busy error reaching here came from a registry query (the prediction log's are
    // translated in its own modules): translate it as the registry's.
    const translated = translateSqliteError(err, registryFile);
    const known = isMlopsError(translated) ? translated : null;
    if (known) {
      if (BUSY.has(known.code)) reply.header('retry-after', '1');
      else if (known.status >= 500) request.log.error({ err }, known.message);
      const details = known.details === undefined ? {} : { details: known.details };
      return reply.status(known.status).send({ error: known.message, code: known.code, ...details });
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
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}`, code: 'NOT_FOUND' }),
  );
}
