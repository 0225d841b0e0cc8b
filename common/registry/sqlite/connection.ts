import { translateSqliteError } from '../../sqlite';
import type { Db } from './database';

/**
 * The registry's one better-sqlite3 connection, shared by async callers. Most work on it is
 * synchronous and cannot interleave; the exceptions are the write transactions that await the
 * artifact store (registration places its file between choosing the number and committing the
 * row; the orphan sweep asks about rows while it removes folders). While one of those is open,
 * any other statement on the connection would silently join it, so every use goes through one
 * queue: a transaction holds it until COMMIT or ROLLBACK, a plain read or write holds it for no time.
 */
export class SqliteConnection {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly db: Db,
    /** The SQLite file, named when it is busy. */
    readonly file: string,
  ) {}

  /** Runs `fn` once nothing else holds the connection; SQLITE_BUSY becomes REGISTRY_BUSY naming the file. */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(fn).catch((err: unknown) => {
      throw translateSqliteError(err, this.file);
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** A synchronous transaction (better-sqlite3's), IMMEDIATE when it writes after reading. */
  transaction<T>(fn: () => T, immediate = false): Promise<T> {
    return this.run(() => {
      const tx = this.db.transaction(fn);
      return immediate ? tx.immediate() : tx();
    });
  }

  /**
   * BEGIN IMMEDIATE … COMMIT around async work: the write lock is taken first (no other process
   * writes until COMMIT), and a throw, or a crash before COMMIT, leaves nothing of it.
   */
  writeTransaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.run(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn();
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }
}
