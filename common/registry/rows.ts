import path from 'node:path';
import type { AliasMove, GitInfo, ModelVersion, RunRecord, RunStatus, StepKind, StepRecord, StepStatus } from '../contract';
import type { ArtifactStore } from './artifacts';
import type { NewVersion } from './models';
import type { NewRun } from './runs';
import type { CachedValue, CacheSource, StepCacheEntry } from './step-cache';

/**
 * The registry's rows as both backends read them (SQLite and PostgreSQL keep the same columns),
 * and their mapping to what the rest of the code sees: JSON columns parsed, paths made absolute.
 * Backends speak SQL; this module only shapes what came back.
 */

export interface VersionRow {
  model: string;
  version: number;
  /** The artifact store's key of model.onnx: models/<name>/<version>/model.onnx. */
  path: string;
  sha256: string;
  signature: string;
  metrics: string;
  params: string;
  lineage: string;
  reference: string;
  created_at: string;
}

export interface AliasHistoryRow {
  id: number;
  model: string;
  alias: string;
  from_version: number | null;
  to_version: number;
  at: string;
  by: string;
  /** 0/1 in SQLite, a boolean in PostgreSQL. */
  removed: number | boolean;
}

export interface RunRow {
  id: string;
  pipeline: string;
  pipeline_file: string;
  params: string;
  status: RunStatus;
  error: string | null;
  run_dir: string;
  pid: number | null;
  git: string;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  duration_ms: number | null;
  registered_model: string | null;
  registered_version: number | null;
  trigger: string;
  /** The runner's host (runnerHost); null for runs recorded before schema 6. */
  host: string | null;
}

export interface StepRow {
  name: string;
  idx: number;
  status: StepStatus;
  started_at: string | null;
  ended_at: string | null;
  duration_ms: number | null;
  log_file: string;
  error: string | null;
  kind: StepKind;
  needs: string;
  cached_from: string | null;
  notebook: string | null;
}

export interface ArtifactRow {
  name: string;
  step: string | null;
}

export interface MetricRow {
  name: string;
  value: number;
}

export interface StepCacheRow {
  run_id: string;
  step: string;
  pipeline_file: string;
  code_hash: string;
  upstream_hash: string;
  params: string;
  files: string;
  artifact_reads: string;
  artifacts: string;
  value: CachedValue;
  outputs_hash: string;
  origin_run: string;
  /** From the joined runs row. */
  run_dir: string;
}

/** Every registry table, parents before children: the order rows are copied in (RegistryCopyApi). */
export const REGISTRY_TABLES = [
  'models',
  'model_versions',
  'aliases',
  'alias_history',
  'runs',
  'run_steps',
  'run_metrics',
  'run_artifacts',
  'step_cache',
] as const;

/** Timestamps are ISO strings in both backends (text columns), so they sort and compare alike. */
export const now = (): string => new Date().toISOString();

/** A version as the code sees it; `aliases` of its model and the model's latest version name its aliases. */
export function toVersion(r: VersionRow, aliases: Record<string, number>, latest: number, artifacts: ArtifactStore): ModelVersion {
  const names = Object.entries(aliases)
    .filter(([, v]) => v === r.version)
    .map(([a]) => a);
  if (r.version === latest) names.push('latest');
  return {
    model: r.model,
    version: r.version,
    path: artifacts.localPath(r.path),
    sha256: r.sha256,
    signature: JSON.parse(r.signature),
    metrics: JSON.parse(r.metrics),
    params: JSON.parse(r.params),
    lineage: JSON.parse(r.lineage),
    reference: JSON.parse(r.reference),
    createdAt: r.created_at,
    aliases: names,
  };
}

export function toAliasMove(r: AliasHistoryRow): AliasMove {
  return {
    id: Number(r.id),
    model: r.model,
    alias: r.alias,
    fromVersion: r.from_version,
    toVersion: r.to_version,
    at: r.at,
    by: r.by,
    ...(r.removed ? { removed: true } : {}),
  };
}

/** A run with its steps, metrics and artifacts (rows of run_steps ordered by idx, the others by name). */
export function toRecord(r: RunRow, steps: StepRow[], metrics: MetricRow[], artifacts: ArtifactRow[], dataDir: string): RunRecord {
  const runDir = path.resolve(dataDir, r.run_dir);
  return {
    id: r.id,
    pipeline: r.pipeline,
    pipelineFile: r.pipeline_file,
    params: JSON.parse(r.params) as Record<string, unknown>,
    status: r.status,
    error: r.error,
    runDir,
    pid: r.pid,
    git: JSON.parse(r.git) as GitInfo,
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    durationMs: r.duration_ms,
    steps: steps.map((s): StepRecord => ({
      name: s.name,
      index: s.idx,
      status: s.status,
      startedAt: s.started_at,
      endedAt: s.ended_at,
      durationMs: s.duration_ms,
      logFile: path.join(runDir, s.log_file),
      error: s.error,
      kind: s.kind,
      needs: JSON.parse(s.needs) as string[],
      cachedFrom: s.cached_from,
      artifacts: artifacts.filter((a) => a.step === s.name).map((a) => a.name),
      notebook: s.notebook,
    })),
    metrics: Object.fromEntries(metrics.map((m) => [m.name, m.value])),
    artifacts: artifacts.map((a) => a.name),
    registered: r.registered_model && r.registered_version ? { model: r.registered_model, version: r.registered_version } : null,
    trigger: r.trigger,
    host: r.host,
  };
}

export function toCacheSource(r: StepCacheRow, dataDir: string): CacheSource {
  return {
    runId: r.run_id,
    step: r.step,
    pipelineFile: r.pipeline_file,
    codeHash: r.code_hash,
    upstreamHash: r.upstream_hash,
    params: JSON.parse(r.params) as Record<string, unknown>,
    files: JSON.parse(r.files) as Record<string, string>,
    reads: JSON.parse(r.artifact_reads) as Record<string, string>,
    artifacts: JSON.parse(r.artifacts) as Record<string, string>,
    value: r.value,
    outputsHash: r.outputs_hash,
    origin: r.origin_run,
    runDir: path.resolve(dataDir, r.run_dir),
  };
}

/**
 * The write side of the same mapping: the columns a backend inserts for a new row and their values,
 * in one order. Each backend writes its own SQL around them (insertSql), in its own placeholders.
 */
export interface InsertRow {
  columns: string[];
  values: unknown[];
}

const insertRow = (row: Record<string, unknown>): InsertRow => ({ columns: Object.keys(row), values: Object.values(row) });

/** `INSERT INTO table ("a", "b") VALUES (<p(1)>, <p(2)>)`: `p` is the dialect's placeholder ('?' or `$n`). */
export function insertSql(verb: string, table: string, row: InsertRow, p: (n: number) => string): string {
  return `${verb} ${table} (${row.columns.map((c) => `"${c}"`).join(', ')}) VALUES (${row.columns.map((_, i) => p(i + 1)).join(', ')})`;
}

/** A run as create() inserts it: running since `at`, on `host` (runnerHost), its folder relative to the data folder. */
export function newRunRow(run: NewRun, dataDir: string, at: string, host: string): InsertRow {
  return insertRow({
    id: run.id,
    pipeline: run.pipeline,
    pipeline_file: run.pipelineFile,
    params: JSON.stringify(run.params),
    status: 'running',
    run_dir: path.relative(dataDir, run.runDir),
    pid: run.pid,
    git: JSON.stringify(run.git),
    created_at: at,
    started_at: at,
    trigger: run.trigger ?? 'manual',
    host,
  });
}

/** A version as register() inserts it, once its number is chosen and its file placed under `key`. */
export function newVersionRow(req: NewVersion, version: number, key: string, sha256: string, at: string): InsertRow {
  return insertRow({
    model: req.model,
    version,
    path: key,
    sha256,
    signature: JSON.stringify(req.signature),
    metrics: JSON.stringify(req.metrics),
    params: JSON.stringify(req.params),
    lineage: JSON.stringify(req.lineage),
    reference: JSON.stringify(req.reference),
    run_id: req.lineage.runId,
    created_at: at,
  });
}

/** A step cache entry as record() inserts (or replaces) it. */
export function cacheEntryRow(e: StepCacheEntry): InsertRow {
  return insertRow({
    run_id: e.runId,
    step: e.step,
    pipeline_file: e.pipelineFile,
    code_hash: e.codeHash,
    upstream_hash: e.upstreamHash,
    params: JSON.stringify(e.params),
    files: JSON.stringify(e.files),
    artifact_reads: JSON.stringify(e.reads),
    artifacts: JSON.stringify(e.artifacts),
    value: e.value,
    outputs_hash: e.outputsHash,
    origin_run: e.origin,
  });
}
