import path from 'node:path';
import type { ArtifactStore } from '../artifacts';
import type { Registry, RegistryCopyApi } from '../store';
import { SqliteConnection } from './connection';
import { SqliteCopy } from './copy';
import { DB_FILE, openDatabase, SCHEMA_VERSION, type Db } from './database';
import { SqliteLeaseStore } from './leases';
import { SqliteModelStore } from './models';
import { SqliteRunStore } from './runs';
import { SqliteStepCacheStore } from './step-cache';

export { DB_FILE, SCHEMA_VERSION, type Db } from './database';

/** The SQLite registry; its connection is exposed for tests that prove what the database itself enforces. */
export interface SqliteRegistry extends Registry, RegistryCopyApi {
  readonly backend: 'sqlite';
  /** The SQLite file. */
  readonly file: string;
  readonly db: Db;
}

/**
 * Opens (creating and migrating if needed) the SQLite registry: by default <dataDir>/mlops.sqlite
 * (MLOPS_DATABASE_URL=sqlite:<file> names another file), model files in `artifacts`.
 */
export function openSqliteRegistry(dataDir: string, artifacts: ArtifactStore, file = path.join(dataDir, DB_FILE)): SqliteRegistry {
  const db = openDatabase(file);
  const conn = new SqliteConnection(db, file);
  const copy = new SqliteCopy(conn);
  return {
    backend: 'sqlite',
    location: file,
    file,
    db,
    dataDir,
    artifacts,
    runs: new SqliteRunStore(conn, dataDir),
    models: new SqliteModelStore(conn, artifacts),
    stepCache: new SqliteStepCacheStore(conn, dataDir),
    leases: new SqliteLeaseStore(conn),
    runDir: (runId) => path.join(dataDir, 'runs', runId),
    watch: (onChange, pollMs) => watchDataVersion(conn, onChange, pollMs),
    ping: () => conn.run(() => void db.prepare('SELECT 1').get()),
    schema: () => conn.run(() => ({ version: db.pragma('user_version', { simple: true }) as number, expected: SCHEMA_VERSION })),
    exportRows: () => copy.exportRows(),
    importRows: (rows) => copy.importRows(rows),
    close: () => conn.run(() => void db.close()),
  };
}

/** PRAGMA data_version moves when another connection (CLI, runner, another server) commits: only then call. */
function watchDataVersion(conn: SqliteConnection, onChange: () => void, pollMs: number): () => void {
  const read = () => conn.db.pragma('data_version', { simple: true }) as number;
  let seen = read();
  let stopped = false;
  const timer = setInterval(() => {
    void conn
      .run(() => (stopped || !conn.db.open ? seen : read()))
      .then((v) => {
        if (v === seen || stopped) return;
        seen = v;
        onChange();
      })
      .catch(() => undefined); // busy or closing: the next tick looks again
  }, pollMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
