import path from 'node:path';
import type { RunRecord, RunStatus, StepStatus } from '../../contract';
import { errors } from '../../errors';
import { checkName } from '../names';
import { insertSql, newRunRow, now, toRecord, type ArtifactRow, type MetricRow, type RunRow, type StepRow } from '../rows';
import { abandoned, interruptedOutcome, pidAlive, runnerHost, type NewRun, type NewStep, type UnfinishedRun } from '../runs';
import type { RunStoreApi } from '../store';
import type { SqliteConnection } from './connection';

/** Run records in SQLite: the only code that writes SQL for runs, their steps, metrics and artifacts here. */
export class SqliteRunStore implements RunStoreApi {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly dataDir: string,
  ) {}

  private get db() {
    return this.conn.db;
  }

  async create(run: NewRun, steps: NewStep[]): Promise<void> {
    checkName('run id', run.id);
    const at = now();
    return this.conn.transaction(() => {
      const row = newRunRow(run, this.dataDir, at, runnerHost());
      this.db.prepare(insertSql('INSERT INTO', 'runs', row, () => '?')).run(...row.values);
      this.insertSteps(run.id, steps);
    });
  }

  /** Steps are known only once the pipeline has loaded; a run that fails before that has none. */
  addSteps(runId: string, steps: NewStep[]): Promise<void> {
    return this.conn.transaction(() => this.insertSteps(runId, steps));
  }

  private insertSteps(runId: string, steps: NewStep[]): void {
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO run_steps (run_id, name, idx, status, log_file, kind, needs) VALUES (?, ?, ?, 'pending', ?, ?, ?)`,
    );
    steps.forEach((s, i) => insert.run(runId, s.name, i, path.join('logs', `${s.name}.log`), s.kind, JSON.stringify(s.needs)));
  }

  setPipeline(runId: string, pipeline: string, params: Record<string, unknown>): Promise<void> {
    return this.conn.run(() => {
      this.db.prepare(`UPDATE runs SET pipeline = ?, params = ? WHERE id = ?`).run(pipeline, JSON.stringify(params), runId);
    });
  }

  stepStarted(runId: string, step: string): Promise<void> {
    return this.conn.run(() => {
      this.db.prepare(`UPDATE run_steps SET status = 'running', started_at = ? WHERE run_id = ? AND name = ?`).run(now(), runId, step);
    });
  }

  stepFinished(
    runId: string,
    step: string,
    status: StepStatus,
    durationMs: number,
    error?: string,
    extra: { cachedFrom?: string; notebook?: string } = {},
  ): Promise<void> {
    return this.conn.run(() => {
      this.db
        .prepare(
          `UPDATE run_steps SET status = ?, ended_at = ?, duration_ms = ?, error = ?, cached_from = ?, notebook = ?
           WHERE run_id = ? AND name = ?`,
        )
        .run(status, now(), durationMs, error ?? null, extra.cachedFrom ?? null, extra.notebook ?? null, runId, step);
    });
  }

  recordMetric(runId: string, step: string, name: string, value: number): Promise<void> {
    return this.conn.run(() => {
      this.db
        .prepare(
          `INSERT INTO run_metrics (run_id, name, step, value) VALUES (?, ?, ?, ?)
                  ON CONFLICT (run_id, name) DO UPDATE SET value = excluded.value, step = excluded.step`,
        )
        .run(runId, name, step, value);
    });
  }

  /** An artifact of the run, relative to its artifacts folder; `step` wrote it (null: unknown, runs before schema 3). */
  recordArtifact(runId: string, name: string, step: string | null = null): Promise<void> {
    return this.conn.run(() => {
      this.db.prepare(`INSERT OR IGNORE INTO run_artifacts (run_id, name, step) VALUES (?, ?, ?)`).run(runId, name, step);
    });
  }

  finish(runId: string, status: RunStatus, error: string | null, registered?: { model: string; version: number }): Promise<void> {
    return this.conn.run(() => this.finishSync(runId, status, error, registered));
  }

  private finishSync(runId: string, status: RunStatus, error: string | null, registered?: { model: string; version: number }): void {
    const row = this.db.prepare(`SELECT started_at FROM runs WHERE id = ?`).get(runId) as { started_at: string } | undefined;
    const end = new Date();
    const duration = row?.started_at ? end.getTime() - Date.parse(row.started_at) : null;
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE runs SET status = ?, error = ?, ended_at = ?, duration_ms = ?,
             registered_model = ?, registered_version = ? WHERE id = ?`,
        )
        .run(status, error, end.toISOString(), duration, registered?.model ?? null, registered?.version ?? null, runId);
      // Steps that never got to run are skipped; one caught mid-way shares the run's fate.
      this.db.prepare(`UPDATE run_steps SET status = 'skipped' WHERE run_id = ? AND status = 'pending'`).run(runId);
      this.db
        .prepare(`UPDATE run_steps SET status = 'failed', ended_at = ?, error = COALESCE(error, ?) WHERE run_id = ? AND status = 'running'`)
        .run(end.toISOString(), error, runId);
    })();
  }

  /**
   * Runs left "running" by a runner that no longer exists (killed, crashed, machine restarted) are
   * marked failed (or cancelled): judged by pid on this host, by the runner's lease elsewhere (runs.ts
   * abandoned). Called whenever the registry is opened, and every little while by a server.
   */
  recoverInterrupted(isAlive: (pid: number) => boolean = pidAlive): Promise<string[]> {
    return this.conn.run(() => {
      const unfinished = (
        this.db
          .prepare(
            `SELECT id, pid, host, EXISTS (SELECT 1 FROM leases WHERE name = 'run:' || runs.id AND expires_at > ?) AS leased
             FROM runs WHERE status IN ('running', 'queued')`,
          )
          .all(Date.now()) as (Omit<UnfinishedRun, 'leased'> & { leased: number })[]
      ).map((r) => ({ ...r, leased: r.leased === 1 }));
      const stale = unfinished.filter((r) => abandoned(r, isAlive));
      for (const r of stale) {
        const { status, error } = interruptedOutcome(this.dataDir, r.id, r.pid);
        this.finishSync(r.id, status, error);
        this.db.prepare(`DELETE FROM leases WHERE name = 'run:' || ?`).run(r.id); // a lapsed lease, now of no use
      }
      return stale.map((r) => r.id);
    });
  }

  list(limit = 50): Promise<RunRecord[]> {
    return this.conn.run(() => {
      const rows = this.db.prepare(`SELECT * FROM runs ORDER BY created_at DESC, id DESC LIMIT ?`).all(limit) as RunRow[];
      return rows.map((r) => this.record(r));
    });
  }

  async get(id: string): Promise<RunRecord> {
    checkName('run id', id);
    return this.conn.run(() => {
      const row = this.db.prepare(`SELECT * FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
      if (!row) throw errors.notFound(`run '${id}'`);
      return this.record(row);
    });
  }

  private record(r: RunRow): RunRecord {
    const steps = this.db.prepare(`SELECT * FROM run_steps WHERE run_id = ? ORDER BY idx`).all(r.id) as StepRow[];
    const metrics = this.db.prepare(`SELECT name, value FROM run_metrics WHERE run_id = ? ORDER BY name`).all(r.id) as MetricRow[];
    const artifacts = this.db.prepare(`SELECT name, step FROM run_artifacts WHERE run_id = ? ORDER BY name`).all(r.id) as ArtifactRow[];
    return toRecord(r, steps, metrics, artifacts, this.dataDir);
  }
}
