import { CACHE_CANDIDATES, type CacheSource, type StepCacheEntry } from '../step-cache';
import type { StepCacheApi } from '../store';
import type { PgDb } from './db';
import { cacheEntryRow, insertSql, toCacheSource, type StepCacheRow } from '../rows';

/** The step cache's records on PostgreSQL. */
export class PgStepCacheStore implements StepCacheApi {
  constructor(
    private readonly db: PgDb,
    private readonly dataDir: string,
  ) {}

  async record(e: StepCacheEntry): Promise<void> {
    // SQLite's INSERT OR REPLACE: a step recorded again (a retried run) replaces its entry.
    const row = cacheEntryRow(e);
    const update = row.columns
      .filter((c) => c !== 'run_id' && c !== 'step')
      .map((c) => `"${c}" = excluded."${c}"`)
      .join(', ');
    await this.db.query(
      `${insertSql('INSERT INTO', 'step_cache', row, (n) => `$${n}`)} ON CONFLICT (run_id, step) DO UPDATE SET ${update}`,
      row.values,
    );
  }

  async candidates(pipelineFile: string, step: string, codeHash: string, upstreamHash: string): Promise<CacheSource[]> {
    const rows = await this.db.query<StepCacheRow>(
      `SELECT c.*, r.run_dir FROM step_cache c JOIN runs r ON r.id = c.run_id
       WHERE c.pipeline_file = $1 AND c.step = $2 AND c.code_hash = $3 AND c.upstream_hash = $4 AND r.status = 'succeeded'
       ORDER BY r.created_at DESC, r.id COLLATE "C" DESC LIMIT $5`,
      [pipelineFile, step, codeHash, upstreamHash, CACHE_CANDIDATES],
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
