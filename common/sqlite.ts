import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { errors, type MlopsError } from './errors';

/** What to say when a database stays locked: it names the database (the registry unless told). */
export type BusyError = (file: string) => MlopsError;

/**
 * Opens (creating if needed) a SQLite file the way every store here wants it: WAL, synchronous
 * NORMAL (a committed transaction survives a process crash; only a power cut or an OS crash can
 * lose the last commits), foreign keys on, and the schema brought up to date by `migrations`
 * (one step per version, recorded in PRAGMA user_version).
 */
/** One schema step: SQL, or a function for data rewrites SQL cannot express (run inside the migration's transaction). */
export type Migration = string | ((db: Database.Database) => void);

export function openSqlite(file: string, migrations: Migration[], busy: BusyError = errors.registryBusy): Database.Database {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: 5000 });
    setWal(db);
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, migrations);
    return db;
  } catch (err) {
    db?.close();
    throw translateSqliteError(err, file, busy);
  }
}

function migrate(db: Database.Database, migrations: Migration[]): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  if (version() >= migrations.length) return;
  // Read the version again under the write lock: another process may have migrated meanwhile.
  db.transaction(() => {
    for (let v = version(); v < migrations.length; v++) {
      const step = migrations[v];
      if (typeof step === 'string') db.exec(step);
      else step(db);
    }
    db.pragma(`user_version = ${migrations.length}`);
  }).immediate();
}

/**
 * Switching a new file to WAL needs an exclusive lock, for which SQLite does not wait on the busy
 * timeout: when several processes open a fresh file at once, retry briefly.
 */
function setWal(db: Database.Database): void {
  for (let attempt = 0; ; attempt++) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || attempt >= 50) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

/**
 * The one place SQLITE_BUSY is translated: after the busy timeout it becomes a clear, retryable
 * error naming the database (503 with retry-after from the server) instead of a hang or a stack.
 */
export function translateSqliteError(err: unknown, file: string, busy: BusyError = errors.registryBusy): unknown {
  const code = (err as { code?: string } | null)?.code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return busy(file);
  return err;
}
