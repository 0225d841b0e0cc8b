import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { errors } from './errors';

/**
 * Opens (creating if needed) a SQLite file the way every store here wants it: WAL, synchronous
 * NORMAL (a committed transaction survives a process crash; only a power cut or an OS crash can
 * lose the last commits), foreign keys on, and the schema brought up to date by `migrations`
 * (one SQL script per version, recorded in PRAGMA user_version).
 */
export function openSqlite(file: string, migrations: string[]): Database.Database {
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
    throw translateSqliteError(err, file);
  }
}

function migrate(db: Database.Database, migrations: string[]): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  if (version() >= migrations.length) return;
  // Read the version again under the write lock: another process may have migrated meanwhile.
  db.transaction(() => {
    for (let v = version(); v < migrations.length; v++) db.exec(migrations[v]);
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

/** SQLITE_BUSY after the busy timeout becomes a clear, retryable error instead of a hang or a stack. */
export function translateSqliteError(err: unknown, file: string): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return errors.registryBusy(file);
  return err;
}
