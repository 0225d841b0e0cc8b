// MERGE: replace with common/registry/rows.ts (the async helper's shared row → record mapping).
// The columns are the SQLite ones (see migrations.ts), so one mapping serves both backends.
import path from 'node:path';
import type { AliasMove, GitInfo, ModelVersion, RunRecord, StepKind, StepRecord, StepStatus, RunStatus } from '../../contract';
import type { CachedValue, CacheSource } from '../step-cache';

export interface VersionRow {
  model: string;
  version: number;
  path: string;
  sha256: string;
  signature: string;
  metrics: string;
  params: string;
  lineage: string;
  reference: string;
  created_at: string;
}

export interface HistoryRow {
  id: number;
  model: string;
  alias: string;
  from_version: number | null;
  to_version: number;
  at: string;
  by: string;
  removed: number;
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
}

export interface StepRow {
  run_id: string;
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

export interface EntryRow {
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
  run_dir: string;
}

/** A version row with the aliases on it (`latest` on the newest); `localPath` turns the artifact key into a path. */
export function toVersion(
  r: VersionRow,
  aliases: Record<string, number>,
  latest: number,
  localPath: (key: string) => string,
): ModelVersion {
  const names = Object.entries(aliases)
    .filter(([, v]) => v === r.version)
    .map(([a]) => a);
  if (r.version === latest) names.push('latest');
  return {
    model: r.model,
    version: r.version,
    path: localPath(r.path),
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

export function toMove(r: HistoryRow): AliasMove {
  return {
    id: r.id,
    model: r.model,
    alias: r.alias,
    fromVersion: r.from_version,
    toVersion: r.to_version,
    at: r.at,
    by: r.by,
    ...(r.removed ? { removed: true } : {}),
  };
}

export function toRunRecord(
  r: RunRow,
  dataDir: string,
  steps: StepRow[],
  artifactRows: { name: string; step: string | null }[],
  metricRows: { name: string; value: number }[],
): RunRecord {
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
      artifacts: artifactRows.filter((a) => a.step === s.name).map((a) => a.name),
      notebook: s.notebook,
    })),
    metrics: Object.fromEntries(metricRows.map((m) => [m.name, m.value])),
    artifacts: artifactRows.map((a) => a.name),
    registered: r.registered_model && r.registered_version ? { model: r.registered_model, version: r.registered_version } : null,
    trigger: r.trigger,
  };
}

export function toCacheSource(r: EntryRow, dataDir: string): CacheSource {
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
