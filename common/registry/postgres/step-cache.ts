import type { CacheSource, StepCacheEntry } from '../step-cache';
import type { StepCacheApi } from '../store';
import type { PgDb } from './db';
import { toCacheSource, type StepCacheRow } from '../rows';

/** Sources looked at per step, newest first (as in the SQLite store). */
const CANDIDATES = 20;

/** The step cache's records on PostgreSQL. */
export class PgStepCacheStore implements StepCacheApi {
  constructor(
    private readonly db: PgDb,
    private readonly dataDir: string,
  ) {}

  async record(e: StepCacheEntry): Promise<void> {
    // SQLite's INSERT OR REPLACE: a step recorded again (a retried run) replaces its entry.
    await this.db.query(
      `INSERT INTO step_cache (run_id, step, pipeline_file, code_hash, upstream_hash, params, files, artifact_reads,
         artifacts, value, outputs_hash, origin_run) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (run_id, step) DO UPDATE SET pipeline_file = excluded.pipeline_file, code_hash = excluded.code_hash,
         upstream_hash = excluded.upstream_hash, params = excluded.params, files = excluded.files,
         artifact_reads = excluded.artifact_reads, artifacts = excluded.artifacts, value = excluded.value,
         outputs_hash = excluded.outputs_hash, origin_run = excluded.origin_run`,
      [
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
      ],
    );
  }

  async candidates(pipelineFile: string, step: string, codeHash: string, upstreamHash: string): Promise<CacheSource[]> {
    const rows = await this.db.query<StepCacheRow>(
      `SELECT c.*, r.run_dir FROM step_cache c JOIN runs r ON r.id = c.run_id
       WHERE c.pipeline_file = $1 AND c.step = $2 AND c.code_hash = $3 AND c.upstream_hash = $4 AND r.status = 'succeeded'
       ORDER BY r.created_at DESC, r.id COLLATE "C" DESC LIMIT $5`,
      [pipelineFile, step, codeHash, upstreamHash, CANDIDATES],
    );
    return rows.map((r) => toCacheSource(r, this.dataDir));
  }

  async results(runId: string, step: string): Promise<{ metrics: { name: string; value: number }[]; notebook: string | null }> {
    const [metrics, [row]] = await Promise.all([
      this.db.query<{ name: string; value: number }>(
        `SELECT name, value FROM run_metrics WHERE run_id = $1 AND step = $2 ORDER BY name COLLATE "C"`,
        [runId, step],
      ),
      this.db.query<{ notebook: string | null }>(`SELECT notebook FROM run_steps WHERE run_id = $1 AND name = $2`, [runId, step]),
    ]);
    return { metrics, notebook: row?.notebook ?? null };
  }
}
