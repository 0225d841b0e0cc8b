import type { AliasMove, ModelSummary, ModelVersion, RunRecord, RunStatus, StepStatus } from '../contract';
import type { ModelRef } from '../model-uri';
import type { ArtifactStore } from './artifacts';
import type { CacheSource, StepCacheEntry } from './step-cache';
import type { NewRun, NewStep } from './runs';
import type { NewVersion } from './models';

/**
 * The registry as every process sees it, whatever holds it: SQLite (common/registry/sqlite/, the
 * zero-setup default) or PostgreSQL (common/registry/postgres/, MLOPS_DATABASE_URL=postgres://…).
 * Both backends keep the same schema version, migrations and semantics: immutable versions, an
 * append-only alias history enforced by the database, atomic registration (distinct version numbers
 * under concurrent registrations, no partial version after a crash) and run records.
 * Everything is async because one backend is across a network; this module and the backends' own
 * folders are the only places that speak SQL.
 */
export interface Registry {
  readonly backend: 'sqlite' | 'postgres';
  /** Where it lives, for messages: the SQLite file, or the PostgreSQL URL without its password. */
  readonly location: string;
  /** The local data folder: run folders, logs, the prediction log's SQLite file. */
  readonly dataDir: string;
  readonly runs: RunStoreApi;
  readonly models: ModelStoreApi;
  /** What finished steps depended on and produced, for reuse by later runs (pipeline/runner/step-cache.ts). */
  readonly stepCache: StepCacheApi;
  /** Names held by one holder until they expire (common/registry/leases.ts). */
  readonly leases: LeaseApi;
  /** Where model files live (MLOPS_ARTIFACT_DIR, default <dataDir>/models). */
  readonly artifacts: ArtifactStore;
  /** Folder of one run: logs, artifacts, events. */
  runDir(runId: string): string;
  /**
   * Calls `onChange` soon after another process commits a change (a registration, an alias move, a
   * run record): SQLite polls its data_version; PostgreSQL LISTENs, with the poll as a fallback while
   * its connection is down. Returns the function that stops watching.
   */
  watch(onChange: () => void, pollMs: number): () => void;
  /** Resolves when the database answers a trivial query within `timeoutMs`; rejects with a catalogue error otherwise. */
  ping(timeoutMs?: number): Promise<void>;
  /** The schema version the database is at, and the one this code expects. */
  schema(): Promise<{ version: number; expected: number }>;
  close(): Promise<void>;
}

export interface ModelStoreApi {
  register(req: NewVersion): Promise<ModelVersion>;
  list(): Promise<ModelSummary[]>;
  versions(model: string): Promise<ModelVersion[]>;
  version(model: string, version: number): Promise<ModelVersion>;
  /** `iris` (production, else latest), `iris@alias`, `iris@latest`, `iris/3`. */
  resolve(ref: ModelRef, defaultAlias?: string): Promise<ModelVersion>;
  setAlias(model: string, alias: string, version: number, by: string): Promise<AliasMove>;
  /** Removes an alias; the history keeps a row (removed, toVersion = the version it left). Null when it was not set. */
  removeAlias(model: string, alias: string, by: string): Promise<AliasMove | null>;
  /** Moves alias `to` onto the version under `from` and removes `from`, in one transaction. */
  promoteFrom(model: string, from: string, to: string, by: string): Promise<AliasMove[]>;
  history(model: string): Promise<AliasMove[]>;
  /** Every model with its versions, read in one consistent snapshot (one transaction). */
  snapshot(): Promise<{ model: ModelSummary; versions: ModelVersion[] }[]>;
  /** Removes staged files and version folders that no committed row owns (crash leftovers). */
  sweepOrphans(): Promise<string[]>;
}

export interface RunStoreApi {
  create(run: NewRun, steps: NewStep[]): Promise<void>;
  addSteps(runId: string, steps: NewStep[]): Promise<void>;
  setPipeline(runId: string, pipeline: string, params: Record<string, unknown>): Promise<void>;
  stepStarted(runId: string, step: string): Promise<void>;
  stepFinished(
    runId: string,
    step: string,
    status: StepStatus,
    durationMs: number,
    error?: string,
    extra?: { cachedFrom?: string; notebook?: string },
  ): Promise<void>;
  recordMetric(runId: string, step: string, name: string, value: number): Promise<void>;
  recordArtifact(runId: string, name: string, step?: string | null): Promise<void>;
  finish(runId: string, status: RunStatus, error: string | null, registered?: { model: string; version: number }): Promise<void>;
  /** Runs left running by a runner that no longer exists are marked failed (or cancelled). Returns their ids. */
  recoverInterrupted(isAlive?: (pid: number) => boolean): Promise<string[]>;
  list(limit?: number): Promise<RunRecord[]>;
  get(id: string): Promise<RunRecord>;
}

/**
 * Leases: a name held by one holder for a time, in the registry's database so that every process and
 * host that shares it agrees. Expiry is judged by the database's clock (PostgreSQL) or the one host's
 * (SQLite), never by comparing two hosts' clocks.
 */
export interface LeaseApi {
  /**
   * Takes `name` for `ttlMs` when it is free (never taken, expired) or already `holder`'s (a renewal,
   * which moves its expiry to `ttlMs` from now). False when another holder's lease is live.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives `name` up, if `holder` holds it. */
  release(name: string, holder: string): Promise<void>;
  /** The live leases whose names start with `prefix`, with what is left of them. */
  live(prefix: string): Promise<{ name: string; holder: string; remainingMs: number }[]>;
}

export interface StepCacheApi {
  record(e: StepCacheEntry): Promise<void>;
  candidates(pipelineFile: string, step: string, codeHash: string, upstreamHash: string): Promise<CacheSource[]>;
  results(runId: string, step: string): Promise<{ metrics: { name: string; value: number }[]; notebook: string | null }>;
}

/**
 * Everything a registry holds, as plain rows, for `mlops db copy` (common/registry/copy.ts): read
 * from one backend, written into an empty one with the same version numbers, history ids and times.
 */
export interface RegistryRows {
  schemaVersion: number;
  tables: Record<string, Record<string, unknown>[]>;
}

/** What `mlops db copy` needs of a backend beyond the Registry. */
export interface RegistryCopyApi {
  /** Every row of every registry table, in dependency order. */
  exportRows(): Promise<RegistryRows>;
  /** Writes rows into this (empty) registry in one transaction; refuses a non-empty one. */
  importRows(rows: RegistryRows): Promise<void>;
}
