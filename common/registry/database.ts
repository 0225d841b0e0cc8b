import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { errors } from '../errors';

export type Db = Database.Database;

// Each entry moves the schema one version up; PRAGMA user_version records how far a file is.
const MIGRATIONS: string[] = [
  `
  CREATE TABLE models (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
  );
  CREATE TABLE model_versions (
    model TEXT NOT NULL REFERENCES models(name),
    version INTEGER NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    signature TEXT NOT NULL,
    metrics TEXT NOT NULL,
    params TEXT NOT NULL,
    lineage TEXT NOT NULL,
    reference TEXT NOT NULL,
    run_id TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (model, version)
  );
  CREATE TRIGGER model_versions_immutable BEFORE UPDATE ON model_versions
    BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END;
  CREATE TABLE aliases (
    model TEXT NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (model, alias),
    FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
  );
  CREATE TABLE alias_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    alias TEXT NOT NULL,
    from_version INTEGER,
    to_version INTEGER NOT NULL,
    at TEXT NOT NULL,
    by TEXT NOT NULL
  );
  CREATE TRIGGER alias_history_no_update BEFORE UPDATE ON alias_history
    BEGIN SELECT RAISE(ABORT, 'alias history is append-only'); END;
  CREATE TRIGGER alias_history_no_delete BEFORE DELETE ON alias_history
    BEGIN SELECT RAISE(ABORT, 'alias history is append-only'); END;
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL,
    pipeline_file TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    run_dir TEXT NOT NULL,
    pid INTEGER,
    git TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    duration_ms REAL,
    registered_model TEXT,
    registered_version INTEGER
  );
  CREATE INDEX runs_created ON runs(created_at);
  CREATE TABLE run_steps (
    run_id TEXT NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    idx INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    duration_ms REAL,
    log_file TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (run_id, name)
  );
  CREATE TABLE run_metrics (
    run_id TEXT NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    step TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (run_id, name)
  );
  CREATE TABLE run_artifacts (
    run_id TEXT NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
  );
  `,
];

export const DB_FILE = 'mlops.sqlite';

export function openDatabase(dir: string): Db {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, DB_FILE);
  let db: Db;
  try {
    db = new Database(file, { timeout: 5000 });
    setWal(db);
    // NORMAL in WAL mode: a committed transaction survives a process crash (not a power cut).
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (err) {
    throw translateSqliteError(err, file);
  }
  return db;
}

function migrate(db: Db): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  if (version() >= MIGRATIONS.length) return;
  // Read the version again under the write lock: another process may have migrated meanwhile.
  db.transaction(() => {
    for (let v = version(); v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

/**
 * Switching a new file to WAL needs an exclusive lock, for which SQLite does not wait on the busy
 * timeout: when several processes open a fresh registry at once, retry briefly.
 */
function setWal(db: Db): void {
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
