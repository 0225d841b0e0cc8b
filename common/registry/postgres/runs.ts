import path from 'node:path';
import type { RunRecord, RunStatus, StepStatus } from '../../contract';
import { errors } from '../../errors';
import { checkName } from '../names';
import { insertSql, newRunRow, now, toRecord, type ArtifactRow, type MetricRow, type RunRow, type StepRow } from '../rows';
import { abandoned, interruptedOutcome, pidAlive, runnerHost, type NewRun, type NewStep, type UnfinishedRun } from '../runs';
import { NOW_MS } from './leases';
import type { RunStoreApi } from '../store';
import type { PgDb, Queryable } from './db';

/** Run records on PostgreSQL: the same statements as the SQLite store, in its dialect. */
export class PgRunStore implements RunStoreApi {
  constructor(
    private readonly db: PgDb,
    private readonly dataDir: string,
  ) {}

  async create(run: NewRun, steps: NewStep[]): Promise<void> {
    checkName('run id', run.id);
    const at = now();
    await this.db.tx(async (q) => {
      const row = newRunRow(run, this.dataDir, at, runnerHost());
      await q.query(
        insertSql('INSERT INTO', 'runs', row, (n) => `$${n}`),
        row.values,
      );
      await this.insertSteps(q, run.id, steps);
    });
  }

  /** Steps are known only once the pipeline has loaded; a run that fails before that has none. */
  async addSteps(runId: string, steps: NewStep[]): Promise<void> {
    await this.db.tx((q) => this.insertSteps(q, runId, steps));
  }

  private async insertSteps(q: Queryable, runId: string, steps: NewStep[]): Promise<void> {
    for (const [i, s] of steps.entries()) {
      await q.query(
        `INSERT INTO run_steps (run_id, name, idx, status, log_file, kind, needs) VALUES ($1, $2, $3, 'pending', $4, $5, $6)
         ON CONFLICT DO NOTHING`,
        [runId, s.name, i, path.join('logs', `${s.name}.log`), s.kind, JSON.stringify(s.needs)],
      );
    }
  }

  async setPipeline(runId: string, pipeline: string, params: Record<string, unknown>): Promise<void> {
    await this.db.query(`UPDATE runs SET pipeline = $1, params = $2 WHERE id = $3`, [pipeline, JSON.stringify(params), runId]);
  }

  async stepStarted(runId: string, step: string): Promise<void> {
    await this.db.query(`UPDATE run_steps SET status = 'running', started_at = $1 WHERE run_id = $2 AND name = $3`, [now(), runId, step]);
  }

  async stepFinished(
    runId: string,
    step: string,
    status: StepStatus,
    durationMs: number,
    error?: string,
    extra: { cachedFrom?: string; notebook?: string } = {},
  ): Promise<void> {
    await this.db.query(
      `UPDATE run_steps SET status = $1, ended_at = $2, duration_ms = $3, error = $4, cached_from = $5, notebook = $6
       WHERE run_id = $7 AND name = $8`,
      [status, now(), durationMs, error ?? null, extra.cachedFrom ?? null, extra.notebook ?? null, runId, step],
    );
  }

  async recordMetric(runId: string, step: string, name: string, value: number): Promise<void> {
    await this.db.query(
      `INSERT INTO run_metrics (run_id, name, step, value) VALUES ($1, $2, $3, $4)
       ON CONFLICT (run_id, name) DO UPDATE SET value = excluded.value, step = excluded.step`,
      [runId, name, step, value],
    );
  }

  async recordArtifact(runId: string, name: string, step: string | null = null): Promise<void> {
    await this.db.query(`INSERT INTO run_artifacts (run_id, name, step) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [runId, name, step]);
  }

  async finish(runId: string, status: RunStatus, error: string | null, registered?: { model: string; version: number }): Promise<void> {
    const end = new Date();
    await this.db.tx(async (q) => {
      const [row] = await q.query<{ started_at: string | null }>(`SELECT started_at FROM runs WHERE id = $1`, [runId]);
      const duration = row?.started_at ? end.getTime() - Date.parse(row.started_at) : null;
      await q.query(
        `UPDATE runs SET status = $1, error = $2, ended_at = $3, duration_ms = $4, registered_model = $5, registered_version = $6
         WHERE id = $7`,
        [status, error, end.toISOString(), duration, registered?.model ?? null, registered?.version ?? null, runId],
      );
      // Steps that never got to run are skipped; one caught mid-way shares the run's fate.
      await q.query(`UPDATE run_steps SET status = 'skipped' WHERE run_id = $1 AND status = 'pending'`, [runId]);
      await q.query(
        `UPDATE run_steps SET status = 'failed', ended_at = $1, error = COALESCE(error, $2) WHERE run_id = $3 AND status = 'running'`,
        [end.toISOString(), error, runId],
      );
    });
  }

  /**
   * Runs left running by a runner that no longer exists are marked failed (cancelled when a cancel
   * file says so): judged by pid on this host, by the runner's lease for runs of other hosts that share
   * this database (runs.ts abandoned).
   */
  async recoverInterrupted(isAlive: (pid: number) => boolean = pidAlive): Promise<string[]> {
    const unfinished = await this.db.query<UnfinishedRun>(
      `SELECT id, pid, host,
         EXISTS (SELECT 1 FROM leases WHERE name = 'run:' || runs.id AND expires_at > ${NOW_MS}) AS leased
       FROM runs WHERE status IN ('running', 'queued')`,
    );
    const stale = unfinished.filter((r) => abandoned(r, isAlive));
    for (const r of stale) {
      const { status, error } = interruptedOutcome(this.dataDir, r.id, r.pid);
      await this.finish(r.id, status, error);
      await this.db.query(`DELETE FROM leases WHERE name = 'run:' || $1`, [r.id]); // a lapsed lease, now of no use
    }
    return stale.map((r) => r.id);
  }

  async list(limit = 50): Promise<RunRecord[]> {
    const rows = await this.db.query<RunRow>(`SELECT * FROM runs ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT $1`, [limit]);
    return this.records(rows);
  }

  async get(id: string): Promise<RunRecord> {
    checkName('run id', id);
    const rows = await this.db.query<RunRow>(`SELECT * FROM runs WHERE id = $1`, [id]);
    if (rows.length === 0) throw errors.notFound(`run '${id}'`);
    return (await this.records(rows))[0];
  }

  /** The runs with their steps, metrics and artifacts: three queries for the lot, not three per run. */
  private async records(rows: RunRow[]): Promise<RunRecord[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [steps, artifacts, metrics] = await Promise.all([
      this.db.query<StepRow & { run_id: string }>(`SELECT * FROM run_steps WHERE run_id = ANY($1) ORDER BY run_id, idx`, [ids]),
      this.db.query<ArtifactRow & { run_id: string }>(
        `SELECT run_id, name, step FROM run_artifacts WHERE run_id = ANY($1) ORDER BY run_id, name COLLATE "C"`,
        [ids],
      ),
      this.db.query<MetricRow & { run_id: string }>(
        `SELECT run_id, name, value FROM run_metrics WHERE run_id = ANY($1) ORDER BY run_id, name COLLATE "C"`,
        [ids],
      ),
    ]);
    const of = <T extends { run_id: string }>(list: T[], id: string) => list.filter((x) => x.run_id === id);
    return rows.map((r) => toRecord(r, of(steps, r.id), of(metrics, r.id), of(artifacts, r.id), this.dataDir));
  }
}
