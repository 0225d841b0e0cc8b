import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../../common/errors';
import { isProtected, type ScopeAuth } from '../config';

// Digests have equal length whatever the input, so timingSafeEqual compares in constant time
// and the length of the secret does not leak either.
const digest = (s: string) => crypto.createHash('sha256').update(s).digest();
const same = (given: string, expected: Buffer) => crypto.timingSafeEqual(digest(given), expected);

/**
 * An onRequest hook for one scope: HTTP basic credentials or a bearer token; open when neither is set.
 * `dataDirToken` (the management API's per-data-dir token) is accepted as a bearer token beside the
 * configured credentials, and protects the scope on its own.
 */
export function requireAuth(scope: string, auth: ScopeAuth, dataDirToken?: string) {
  if (!isProtected(auth) && !dataDirToken) return null;
  const basic = auth.username !== undefined && auth.password !== undefined ? digest(`${auth.username}:${auth.password}`) : null;
  const tokens = [auth.token, dataDirToken].filter((t): t is string => t !== undefined).map(digest);
  const challenge = basic ? `Basic realm="mlops ${scope}", charset="UTF-8"` : `Bearer realm="mlops ${scope}"`;
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization ?? '';
    const space = header.indexOf(' ');
    const kind = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    let ok = false;
    if (kind === 'basic' && basic) ok = same(Buffer.from(value, 'base64').toString('utf8'), basic);
    // Every token is compared (no early exit), so which one matched does not show in the timing.
    else if (kind === 'bearer') ok = tokens.reduce((matched, t) => same(value, t) || matched, false);
    if (!ok) {
      reply.header('www-authenticate', challenge);
      throw errors.unauthorized(scope);
    }
  };
}
