import pg from 'pg';
import { errors, isMlopsError } from '../../errors';

/** Anything that runs a query: the pool (one statement, autocommit) or a client inside a transaction. */
export interface Queryable {
  query<R>(sql: string, params?: unknown[]): Promise<R[]>;
}

/** The URL without its password (and without query parameters, which may carry one): what messages name. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

// Namespaces of the two-key advisory locks, so that a model's lock never collides with the migration's.
export const LOCK_MIGRATE = 0x6d6c6f70; // 'mlop'
export const LOCK_MODEL = 0x6d6f646c; // 'modl'
/** Second key under LOCK_MIGRATE: one orphan sweep at a time (two would take model locks in different orders). */
export const LOCK_SWEEP_KEY = 1;

// SQLSTATE classes and Node error codes that mean "the database is not there", as opposed to a bad query.
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE']);
const UNREACHABLE_SQLSTATE = /^(08|57P0[1-3]|53300|28|3D000)/;
const UNREACHABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|connection timeout|Client has encountered a connection error/i;

/**
 * The one place a pg error is translated: connection failures (refused, dropped, a server shutting
 * down, a bad password, a missing database) become DATABASE_UNREACHABLE naming the URL without its
 * password (503 from the server); anything else is returned as it is.
 */
export function translatePgError(err: unknown, location: string): unknown {
  if (isMlopsError(err)) return err;
  const e = err as { code?: string; message?: string } | null;
  const code = e?.code ?? '';
  const message = e?.message ?? String(err);
  if (UNREACHABLE_CODES.has(code) || UNREACHABLE_SQLSTATE.test(code) || UNREACHABLE_MESSAGE.test(message)) {
    return errors.databaseUnreachable(location, code && !message.includes(code) ? `${message} (${code})` : message);
  }
  return err;
}

export interface TxOptions {
  /** A consistent read of several tables (snapshot(), exportRows()). */
  readOnlySnapshot?: boolean;
}

/** A pool with its location, whose queries and transactions translate connection errors. */
export class PgDb implements Queryable {
  readonly pool: pg.Pool;

  constructor(
    readonly url: string,
    readonly location: string,
    size = 10,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: size, connectionTimeoutMillis: 5000, application_name: 'mlops' });
    // An idle client whose server went away (a restart, a failover) emits 'error' on the pool: without a
    // listener that is an unhandled 'error' event and the process dies. The pool drops the client itself.
    this.pool.on('error', () => {});
  }

  async query<R>(sql: string, params: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query(sql, params)).rows as R[];
    } catch (err) {
      throw translatePgError(err, this.location);
    }
  }

  /**
   * Runs `fn` in one transaction on one client; rolls back on any error. A client whose connection
   * failed is destroyed, not returned to the pool.
   */
  async tx<T>(fn: (q: Queryable) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw translatePgError(err, this.location);
    }
    const q: Queryable = { query: async <R>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as R[] };
    let broken: unknown = undefined;
    try {
      await client.query(opts.readOnlySnapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN').catch((e: unknown) => {
        broken = e;
        throw e;
      });
      let result: T;
      try {
        result = await fn(q);
      } catch (err) {
        await client.query('ROLLBACK').catch((e: unknown) => (broken = e));
        throw err;
      }
      try {
        await client.query('COMMIT');
      } catch (err) {
        broken = err;
        throw err;
      }
      return result;
    } catch (err) {
      throw translatePgError(err, this.location);
    } finally {
      // A client whose connection failed is destroyed rather than returned to the pool.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  /** translatePgError for this database, for code that holds a client of its own. */
  translate(err: unknown): unknown {
    return translatePgError(err, this.location);
  }

  async end(): Promise<void> {
    await this.pool.end();
  }
}
