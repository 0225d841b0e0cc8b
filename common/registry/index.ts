import path from 'node:path';
import { dataDir as configuredDataDir } from '../config';
import { errors } from '../errors';
import { isPostgresUrl, redactUrl } from '../postgres';
import type { ArtifactStore } from './artifacts';
import { artifactDir, LocalArtifactStore } from './local-artifacts';
import { openSqliteRegistry } from './sqlite';
import type { Registry, RegistryCopyApi } from './store';

export { checkName, checkAlias } from './names';
export { parseModelRef, type ModelRef } from '../model-uri';
export type { NewVersion } from './models';
export type { NewRun, NewStep } from './runs';
export type { CacheSource, CachedValue, StepCacheEntry } from './step-cache';
export type { Registry, ModelStoreApi, RunStoreApi, StepCacheApi, LeaseApi, RegistryCopyApi, RegistryRows } from './store';
export { HeldLease, leaseHolder, runLeaseMs, runLeaseName } from './leases';
export type { ArtifactStore, StagedArtifact } from './artifacts';
export { openSqliteRegistry, type SqliteRegistry } from './sqlite';

/** A registry as openRegistry gives it: the store, and its rows for `mlops db copy`. */
export type OpenRegistry = Registry & RegistryCopyApi;

export interface OpenRegistryOptions {
  /** Default: MLOPS_DATA_DIR (common/config.ts). */
  dataDir?: string;
  /** Default: a LocalArtifactStore on MLOPS_ARTIFACT_DIR, else the data folder. */
  artifacts?: ArtifactStore;
  env?: NodeJS.ProcessEnv;
}

/**
 * Opens the registry MLOPS_DATABASE_URL names (unset, or sqlite:<file>: SQLite, the zero-setup
 * default under the data folder; postgres://…: PostgreSQL), and repairs what a crash may have
 * left: runs still marked running whose runner is gone, model files with no row.
 */
export async function openRegistry(opts: OpenRegistryOptions = {}): Promise<OpenRegistry> {
  const env = opts.env ?? process.env;
  const dataDir = opts.dataDir ?? configuredDataDir(env);
  const artifacts = opts.artifacts ?? new LocalArtifactStore(artifactDir(dataDir, env));
  const registry = await openBackend(env.MLOPS_DATABASE_URL?.trim() ?? '', dataDir, artifacts);
  try {
    await registry.runs.recoverInterrupted();
    await registry.models.sweepOrphans();
  } catch (err) {
    await registry.close();
    throw err;
  }
  return registry;
}

async function openBackend(url: string, dataDir: string, artifacts: ArtifactStore): Promise<OpenRegistry> {
  if (url === '') return openSqliteRegistry(dataDir, artifacts);
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    if (file === '') throw errors.registryBackend(url, 'name the SQLite file after sqlite: (sqlite:/path/to/mlops.sqlite)');
    return openSqliteRegistry(dataDir, artifacts, path.resolve(file));
  }
  if (isPostgresUrl(url)) {
    // Loaded only when asked for: the SQLite default never pulls in pg.
    const { openPostgresRegistry } = await import('./postgres');
    return openPostgresRegistry(url, { dataDir, artifacts });
  }
  throw errors.registryBackend(redactUrl(url), 'expected sqlite:<file> or postgres://user@host/database (or leave it unset for SQLite)');
}
