import pg from 'pg';
import { errors, isMlopsError } from '../../errors';
import { createPool, pgErrorCode, pgUnreachable, transaction } from '../../postgres';

/** Anything that runs a query: the pool (one statement, autocommit) or a client inside a transaction. */
export interface Queryable {
  query<R>(sql: string, params?: unknown[]): Promise<R[]>;
}

// Namespaces of the two-key advisory locks, so that a model's lock never collides with the migration's.
export const LOCK_MIGRATE = 0x6d6c6f70; // 'mlop'
export const LOCK_MODEL = 0x6d6f646c; // 'modl'
/** Second key under LOCK_MIGRATE: one orphan sweep at a time (two would take model locks in different orders). */
export const LOCK_SWEEP_KEY = 1;

/**
 * The one place a pg error is translated: connection failures (refused, dropped, a server shutting
 * down, a bad password, a missing database) become DATABASE_UNREACHABLE naming the URL without its
 * password (503 from the server); anything else is returned as it is.
 */
export function translatePgError(err: unknown, location: string): unknown {
  if (isMlopsError(err)) return err;
  if (pgUnreachable(err)) {
    const code = pgErrorCode(err);
    const message = (err as { message?: string } | null)?.message ?? String(err);
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
    this.pool = createPool(pg.Pool, url, { max: size, application: 'mlops' });
  }

  async query<R>(sql: string, params: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query(sql, params)).rows as R[];
    } catch (err) {
      throw translatePgError(err, this.location);
    }
  }

  /**
   * Runs `fn` in one transaction on one client; rolls back on any error (common/postgres.ts transaction:
   * a client whose connection failed is destroyed, not returned to the pool).
   */
  async tx<T>(fn: (q: Queryable) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    const begin = opts.readOnlySnapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN';
    try {
      return await transaction(
        this.pool,
        (client) => fn({ query: async <R>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as R[] }),
        begin,
      );
    } catch (err) {
      throw translatePgError(err, this.location);
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
