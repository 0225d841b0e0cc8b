import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../../common/errors';

// DNS rebinding and cross-site requests, refused as Jupyter's and VS Code's local servers do. A page
// on attacker.example whose name is made to resolve to 127.0.0.1 reaches this server with
// `Host: attacker.example`: only names that mean this machine (or were configured) are answered.
// A page of another origin can still send a form or a fetch to 127.0.0.1 itself: a request that
// changes state is refused when its Origin is not this server's own (or a configured CORS origin).

export interface HostPolicy {
  /** Hostnames answered besides loopback ones, lowercased; IPv6 literals in brackets. */
  names: Set<string>;
  /** Bound to every interface with every scope protected: any Host (credentials guard it). */
  anyHost: boolean;
}

const LOOPBACK_IP = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/;
const WILDCARD = new Set(['0.0.0.0', '[::]', '']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The hostname a Host header names (port dropped, IPv4 normalised, trailing dot removed), or null if it is not one. */
export function hostnameOf(host: string): string | null {
  try {
    const url = new URL(`http://${host}`);
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return null;
    return url.hostname.replace(/\.$/, '');
  } catch {
    return null;
  }
}

/**
 * Names the server answers to: loopback ones always; `allowedHosts` (MLOPS_ALLOWED_HOSTS); and,
 * when bound beyond loopback with credentials on every scope, the bound address (any Host when that
 * address is a wildcard).
 */
export function hostPolicy(bound: string, allowedHosts: string[], everyScopeProtected: boolean): HostPolicy {
  const names = new Set(allowedHosts.map((h) => hostnameOf(h)).filter((h): h is string => h !== null));
  const boundName = hostnameOf(bound.includes(':') && !bound.startsWith('[') ? `[${bound}]` : bound) ?? bound;
  const beyondLoopback = boundName !== 'localhost' && !LOOPBACK_IP.test(boundName);
  if (beyondLoopback && everyScopeProtected) {
    if (WILDCARD.has(boundName)) return { names, anyHost: true };
    names.add(boundName);
  }
  return { names, anyHost: false };
}

export function hostAllowed(host: string | undefined, policy: HostPolicy): boolean {
  if (policy.anyHost) return true;
  const name = host === undefined ? null : hostnameOf(host);
  if (name === null) return false;
  return name === 'localhost' || LOOPBACK_IP.test(name) || policy.names.has(name);
}

/** Whether a request's Origin (if any) may change state here: absent (not a browser), ours, or a CORS origin. */
export function originAllowed(request: FastifyRequest, corsOrigins: string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined || SAFE_METHODS.has(request.method)) return true;
  const host = request.headers.host?.toLowerCase();
  if (host && (origin.toLowerCase() === `http://${host}` || origin.toLowerCase() === `https://${host}`)) return true;
  return corsOrigins.includes(origin);
}

/** Refuses (403) requests naming a foreign Host, and state-changing requests from a foreign Origin, before any route runs. */
export function requestGuard(app: FastifyInstance, policy: HostPolicy, corsOrigins: string[]): void {
  // Clients send the same few Host values over and over: the verdict per raw value is kept, so the
  // prediction path parses a Host once, not per request (bounded, as the values come from clients).
  const verdicts = new Map<string, boolean>();
  const allowed = (host: string | undefined): boolean => {
    if (host === undefined) return hostAllowed(host, policy);
    let ok = verdicts.get(host);
    if (ok === undefined) {
      ok = hostAllowed(host, policy);
      if (verdicts.size >= 64) verdicts.clear();
      verdicts.set(host, ok);
    }
    return ok;
  };
  // A callback hook, not an async one: it runs on every request, /predict included, and needs no promise.
  app.addHook('onRequest', (request, _reply, done) => {
    if (!allowed(request.headers.host)) return done(errors.forbiddenHost(String(request.headers.host ?? '').slice(0, 100)));
    if (!originAllowed(request, corsOrigins)) return done(errors.crossOrigin(String(request.headers.origin).slice(0, 100)));
    done();
  });
}
