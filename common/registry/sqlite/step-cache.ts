import { cacheEntryRow, insertSql, toCacheSource, type StepCacheRow } from '../rows';
import { CACHE_CANDIDATES, type CacheSource, type StepCacheEntry } from '../step-cache';
import type { StepCacheApi } from '../store';
import type { SqliteConnection } from './connection';

/** The step cache's records in SQLite: the only SQL for them here. */
export class SqliteStepCacheStore implements StepCacheApi {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly dataDir: string,
  ) {}

  record(e: StepCacheEntry): Promise<void> {
    return this.conn.run(() => {
      const row = cacheEntryRow(e);
      this.conn.db.prepare(insertSql('INSERT OR REPLACE INTO', 'step_cache', row, () => '?')).run(...row.values);
    });
  }

  /** Entries of earlier SUCCEEDED runs with the same pipeline file, step, code and upstream outputs, newest first. */
  candidates(pipelineFile: string, step: string, codeHash: string, upstreamHash: string): Promise<CacheSource[]> {
    return this.conn.run(() => {
      const rows = this.conn.db
        .prepare(
          `SELECT c.*, r.run_dir FROM step_cache c JOIN runs r ON r.id = c.run_id
           WHERE c.pipeline_file = ? AND c.step = ? AND c.code_hash = ? AND c.upstream_hash = ? AND r.status = 'succeeded'
           ORDER BY r.created_at DESC, r.id DESC LIMIT ?`,
        )
        .all(pipelineFile, step, codeHash, upstreamHash, CACHE_CANDIDATES) as StepCacheRow[];
      return rows.map((r) => toCacheSource(r, this.dataDir));
    });
  }

  /** What a reused step carries over from its source run besides files: its metrics and its notebook copy. */
  results(runId: string, step: string): Promise<{ metrics: { name: string; value: number }[]; notebook: string | null }> {
    return this.conn.run(() => {
      const metrics = this.conn.db
        .prepare(`SELECT name, value FROM run_metrics WHERE run_id = ? AND step = ? ORDER BY name`)
        .all(runId, step) as { name: string; value: number }[];
      const row = this.conn.db.prepare(`SELECT notebook FROM run_steps WHERE run_id = ? AND name = ?`).get(runId, step) as
        { notebook: string | null } | undefined;
      return { metrics, notebook: row?.notebook ?? null };
    });
  }
}
