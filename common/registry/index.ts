import path from 'node:path';
import { dataDir as configuredDataDir } from '../config';
import { translateSqliteError } from '../sqlite';
import { DB_FILE, openDatabase, type Db } from './database';
import { ModelStore } from './models';
import { RunStore } from './runs';
import { StepCacheStore } from './step-cache';

export { checkName, checkAlias } from './names';
export { parseModelRef, type ModelRef } from '../model-uri';
export type { NewVersion } from './models';
export type { NewRun } from './runs';
export type { CacheSource, CachedValue, StepCacheEntry } from './step-cache';

export interface Registry {
  dataDir: string;
  /** Its SQLite file, named when the database is busy. */
  file: string;
  db: Db;
  runs: RunStore;
  models: ModelStore;
  /** What finished steps depended on and produced, for reuse by later runs (pipeline/runner/step-cache.ts). */
  stepCache: StepCacheStore;
  /** Folder of one run: logs, artifacts, events. */
  runDir(runId: string): string;
  close(): void;
}

/**
 * Opens (creating if needed) the registry under the data directory, and repairs what a crash
 * may have left: runs still marked running whose runner is gone, model folders with no row.
 */
export function openRegistry(dir = configuredDataDir()): Registry {
  const db = openDatabase(dir);
  const file = path.join(dir, DB_FILE);
  const runs = new RunStore(db, dir);
  const models = new ModelStore(db, dir);
  try {
    runs.recoverInterrupted();
    models.sweepOrphans();
  } catch (err) {
    db.close();
    throw translateSqliteError(err, file);
  }
  return {
    dataDir: dir,
    file,
    db,
    runs,
    models,
    stepCache: new StepCacheStore(db, dir),
    runDir: (runId) => path.join(dir, 'runs', runId),
    close: () => db.close(),
  };
}
