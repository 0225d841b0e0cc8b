// What every PostgreSQL user of the project shares (the registry in common/registry/postgres/, the
// prediction log in server/prediction-log/postgres.ts, `mlops db`): which URLs name PostgreSQL, how a
// URL is shown in messages, which errors mean "the database is not there", and how a pool is made.
// Only a type is imported from pg: this module is loaded by code that must not pull pg in (the SQLite
// default of openRegistry, the prediction log's main thread, the extension's bundle), so the pool
// factory is handed pg's Pool by its caller, which has loaded pg anyway.
import type pg from 'pg';

/** Whether a database URL (MLOPS_DATABASE_URL) names PostgreSQL. */
export const isPostgresUrl = (url: string | undefined | null): url is string => /^postgres(ql)?:\/\//i.test(url ?? '');

/** A database URL without its password (nor query parameters, which may carry one): what messages name. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    // Nothing of an unparseable URL is shown but its scheme: the password could be anywhere in it.
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? '';
    return `${scheme}(unparseable URL)`;
  }
}

// Node error codes and SQLSTATEs that mean "the database is not there", as opposed to a bad query.
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE']);
/** 08 connection, 53300 too many connections, 57P0x shutdown/terminated, 28 auth, 3D000 no such database, 55000 ALLOW_CONNECTIONS false. */
const UNREACHABLE_SQLSTATE = /^(08|57P0[1-3]|53300|28|3D000|55000)/;
const UNREACHABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|connection timeout|Client has encountered a connection error/i;

/** The error's code (a SQLSTATE or a Node errno code), '' when it has none. */
export const pgErrorCode = (err: unknown): string => String((err as { code?: unknown } | null)?.code ?? '');

/**
 * Whether a pg error is a connection problem (refused, dropped, a server shutting down, a bad
 * password, a missing or closed database): worth a retry or a 503, never the data's fault.
 */
export function pgUnreachable(err: unknown): boolean {
  const code = pgErrorCode(err);
  const message = String((err as { message?: unknown } | null)?.message ?? '');
  return UNREACHABLE_CODES.has(code) || UNREACHABLE_SQLSTATE.test(code) || UNREACHABLE_MESSAGE.test(message);
}

export interface PoolOptions {
  /** Connections at most. */
  max: number;
  /** What pg_stat_activity shows for them. */
  application: string;
}

/**
 * A pool with the project's settings: a bounded connect timeout, TCP keepalive (a dead peer is found
 * rather than waited on), and a listener for the 'error' an idle client emits when its server goes
 * away (a restart, a failover): without one that is an unhandled 'error' event and the process dies.
 * The pool drops such a client itself; the next query reconnects.
 */
export function createPool(Pool: typeof pg.Pool, url: string, opts: PoolOptions): pg.Pool {
  const pool = new Pool({
    connectionString: url,
    max: opts.max,
    connectionTimeoutMillis: 5000,
    keepAlive: true,
    application_name: opts.application,
  });
  pool.on('error', () => {});
  return pool;
}

/** Clients that already have an 'error' listener (a pool hands the same client out again). */
const guarded = new WeakSet<pg.PoolClient>();

/**
 * Runs `fn` in one transaction on a client of the pool (`begin` may ask for an isolation level);
 * rolls back on any error. While checked out, a client whose server goes away between two queries
 * (while `fn` awaits something else) emits 'error', which would kill the process without a listener:
 * the query in progress, or the next one, rejects with it anyway. A client whose connection failed,
 * or whose BEGIN, COMMIT or ROLLBACK failed, is destroyed rather than returned to the pool.
 */
export async function transaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  if (!guarded.has(client)) {
    client.on('error', () => {});
    guarded.add(client);
  }
  const asError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));
  let broken: Error | undefined;
  /** BEGIN, COMMIT and ROLLBACK: a client on which one fails is in no known state. */
  const control = (sql: string) =>
    client.query(sql).catch((e: unknown) => {
      broken ??= asError(e);
      throw e;
    });
  try {
    await control(begin);
    let result: T;
    try {
      result = await fn(client);
    } catch (err) {
      await control('ROLLBACK').catch(() => {});
      throw err;
    }
    await control('COMMIT');
    return result;
  } catch (err) {
    if (pgUnreachable(err)) broken ??= asError(err);
    throw err;
  } finally {
    client.release(broken);
  }
}
