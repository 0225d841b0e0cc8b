import path from 'node:path';
import type { Db } from './database';

/** How a step's return value was kept: none (undefined), serialized to outputs/<step>.bin, or not restorable (not plain data). */
export type CachedValue = 'none' | 'bin' | 'unrestorable';

/** What one finished step of a run depended on and produced (pipeline/runner/step-cache.ts computes it). */
export interface StepCacheEntry {
  runId: string;
  step: string;
  /** Absolute path of the pipeline module: only runs of the same file are sources. */
  pipelineFile: string;
  codeHash: string;
  /** The outputs hashes of the steps it depends on (transitively). */
  upstreamHash: string;
  /** The params it read, name → value. */
  params: Record<string, unknown>;
  /** The files it read (declared inputs, path params), absolute path → sha256. */
  files: Record<string, string>;
  /** The earlier steps' artifacts it read, name → sha256 ('missing' for one it looked for and did not find). */
  reads: Record<string, string>;
  /** Its artifacts, relative to the run's artifacts folder → sha256. */
  artifacts: Record<string, string>;
  value: CachedValue;
  outputsHash: string;
  /** The run that computed it: itself, or the run a cached step reused. */
  origin: string;
}

/** An entry of an earlier successful run, with that run's folder. */
export interface CacheSource extends StepCacheEntry {
  runDir: string;
}

interface EntryRow {
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

/** Sources looked at per step, newest first: enough for a few param variations, bounded for a long history. */
const CANDIDATES = 20;

/** The step cache's records: the only SQL for them. */
export class StepCacheStore {
  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
  ) {}

  record(e: StepCacheEntry): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO step_cache (run_id, step, pipeline_file, code_hash, upstream_hash, params, files, artifact_reads,
           artifacts, value, outputs_hash, origin_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        e.runId,
        e.step,
        e.pipelineFile,
        e.codeHash,
        e.upstreamHash,
        JSON.stringify(e.params),
        JSON.stringify(e.files),
        JSON.stringify(e.reads),
        JSON.stringify(e.artifacts),
        e.value,
        e.outputsHash,
        e.origin,
      );
  }

  /** Entries of earlier SUCCEEDED runs with the same pipeline file, step, code and upstream outputs, newest first. */
  candidates(pipelineFile: string, step: string, codeHash: string, upstreamHash: string): CacheSource[] {
    const rows = this.db
      .prepare(
        `SELECT c.*, r.run_dir FROM step_cache c JOIN runs r ON r.id = c.run_id
         WHERE c.pipeline_file = ? AND c.step = ? AND c.code_hash = ? AND c.upstream_hash = ? AND r.status = 'succeeded'
         ORDER BY r.created_at DESC, r.id DESC LIMIT ?`,
      )
      .all(pipelineFile, step, codeHash, upstreamHash, CANDIDATES) as EntryRow[];
    return rows.map((r) => ({
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
      runDir: path.resolve(this.dataDir, r.run_dir),
    }));
  }

  /** What a reused step carries over from its source run besides files: its metrics and its notebook copy. */
  results(runId: string, step: string): { metrics: { name: string; value: number }[]; notebook: string | null } {
    const metrics = this.db.prepare(`SELECT name, value FROM run_metrics WHERE run_id = ? AND step = ? ORDER BY name`).all(runId, step) as {
      name: string;
      value: number;
    }[];
    const row = this.db.prepare(`SELECT notebook FROM run_steps WHERE run_id = ? AND name = ?`).get(runId, step) as
      { notebook: string | null } | undefined;
    return { metrics, notebook: row?.notebook ?? null };
  }
}
