import path from 'node:path';
import { errors } from '../../errors';
import type { ArtifactStore } from '../artifacts';
import type { Registry, RegistryCopyApi } from '../store';
import { exportRows, importRows } from './copy';
import { redactUrl } from '../../postgres';
import { PgDb } from './db';
import { SCHEMA_VERSION, migrate, schemaVersion } from './migrations';
import { PgLeaseStore } from './leases';
import { PgModelStore } from './models';
import { PgRunStore } from './runs';
import { PgStepCacheStore } from './step-cache';
import { watchChanges } from './watch';

export { redactUrl } from '../../postgres';
export { SCHEMA_VERSION } from './migrations';

export interface PostgresRegistryOptions {
  /** The local data folder: run folders, logs. */
  dataDir: string;
  /** Where model files live (a shared folder under several hosts). */
  artifacts: ArtifactStore;
  /** Connections in the pool (default 10). */
  pool?: number;
}

/**
 * Opens the registry in the PostgreSQL database at `url` (MLOPS_DATABASE_URL), migrating it first
 * (once, whichever replica gets there first). A database it cannot reach, or at a newer schema, is a
 * catalogue error naming the URL without its password. Repairs (recoverInterrupted, sweepOrphans)
 * are the caller's to run, as for SQLite.
 */
export async function openPostgresRegistry(url: string, opts: PostgresRegistryOptions): Promise<Registry & RegistryCopyApi> {
  const location = redactUrl(url);
  const db = new PgDb(url, location, opts.pool ?? 10);
  try {
    await migrate(db);
  } catch (err) {
    await db.end().catch(() => {});
    throw err;
  }
  const watchers = new Set<() => Promise<void>>();
  let closing: Promise<void> | null = null;
  return {
    backend: 'postgres',
    location,
    dataDir: opts.dataDir,
    artifacts: opts.artifacts,
    models: new PgModelStore(db, opts.artifacts),
    runs: new PgRunStore(db, opts.dataDir),
    stepCache: new PgStepCacheStore(db, opts.dataDir),
    leases: new PgLeaseStore(db),
    runDir: (runId) => path.join(opts.dataDir, 'runs', runId),
    watch(onChange, pollMs) {
      const stop = watchChanges(db, onChange, pollMs);
      watchers.add(stop);
      return () => {
        watchers.delete(stop);
        void stop();
      };
    },
    async ping(timeoutMs = 2000) {
      let timer: NodeJS.Timeout | undefined;
      const answer = db.query(`SELECT 1`);
      answer.catch(() => {}); // when the timeout wins, a late failure must not be an unhandled rejection
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(errors.databaseUnreachable(location, `no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([answer, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async schema() {
      return { version: await schemaVersion(db), expected: SCHEMA_VERSION };
    },
    close() {
      closing ??= (async () => {
        await Promise.all([...watchers].map((stop) => stop()));
        watchers.clear();
        await db.end();
      })();
      return closing;
    },
    exportRows: () => exportRows(db),
    importRows: (rows) => importRows(db, rows),
  };
}
