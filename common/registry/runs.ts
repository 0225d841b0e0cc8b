import fs from 'node:fs';
import path from 'node:path';
import type { GitInfo, RunRecord, RunStatus, StepKind, StepRecord, StepStatus } from '../contract';
import { errors } from '../errors';
import type { Db } from './database';
import { checkName } from './names';

/** In a run's folder: written by whoever cancels the run (pipeline/runner/spawn.ts), read by its runner. */
export const CANCEL_FILE = 'cancel';

export interface CancelRequest {
  /** What the cancellation counts as, for exit codes: SIGINT (Ctrl-C) or SIGTERM. */
  signal: 'SIGINT' | 'SIGTERM';
  reason: string;
}

export function writeCancelRequest(file: string, request: CancelRequest): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(request) + '\n');
}

/** The request in a cancel file; a file that is unreadable or half-written still means "cancel". */
export function readCancelRequest(file: string): CancelRequest {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<CancelRequest>;
    return { signal: parsed.signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM', reason: String(parsed.reason ?? 'cancelled') };
  } catch {
    return { signal: 'SIGTERM', reason: 'cancelled' };
  }
}

interface RunRow {
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

interface StepRow {
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

export interface NewRun {
  id: string;
  pipeline: string;
  pipelineFile: string;
  params: Record<string, unknown>;
  runDir: string;
  pid: number;
  git: GitInfo;
  /** Why it runs (RunRecord.trigger); default "manual". */
  trigger?: string;
}

/** A step as the runner declares it once the pipeline has loaded. */
export interface NewStep {
  name: string;
  kind: StepKind;
  needs: string[];
}

const now = () => new Date().toISOString();

/** Run records: the only code that writes SQL for runs, their steps, metrics and artifacts. */
export class RunStore {
  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
  ) {}

  create(run: NewRun, steps: NewStep[]): void {
    checkName('run id', run.id);
    const at = now();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO runs (id, pipeline, pipeline_file, params, status, run_dir, pid, git, created_at, started_at, trigger)
           VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          run.id,
          run.pipeline,
          run.pipelineFile,
          JSON.stringify(run.params),
          this.relative(run.runDir),
          run.pid,
          JSON.stringify(run.git),
          at,
          at,
          run.trigger ?? 'manual',
        );
      this.addSteps(run.id, steps);
    })();
  }

  /** Steps are known only once the pipeline has loaded; a run that fails before that has none. */
  addSteps(runId: string, steps: NewStep[]): void {
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO run_steps (run_id, name, idx, status, log_file, kind, needs) VALUES (?, ?, ?, 'pending', ?, ?, ?)`,
    );
    this.db.transaction(() =>
      steps.forEach((s, i) => insert.run(runId, s.name, i, path.join('logs', `${s.name}.log`), s.kind, JSON.stringify(s.needs))),
    )();
  }

  setPipeline(runId: string, pipeline: string, params: Record<string, unknown>): void {
    this.db.prepare(`UPDATE runs SET pipeline = ?, params = ? WHERE id = ?`).run(pipeline, JSON.stringify(params), runId);
  }

  stepStarted(runId: string, step: string): void {
    this.db.prepare(`UPDATE run_steps SET status = 'running', started_at = ? WHERE run_id = ? AND name = ?`).run(now(), runId, step);
  }

  stepFinished(
    runId: string,
    step: string,
    status: StepStatus,
    durationMs: number,
    error?: string,
    extra: { cachedFrom?: string; notebook?: string } = {},
  ): void {
    this.db
      .prepare(
        `UPDATE run_steps SET status = ?, ended_at = ?, duration_ms = ?, error = ?, cached_from = ?, notebook = ?
         WHERE run_id = ? AND name = ?`,
      )
      .run(status, now(), durationMs, error ?? null, extra.cachedFrom ?? null, extra.notebook ?? null, runId, step);
  }

  recordMetric(runId: string, step: string, name: string, value: number): void {
    this.db
      .prepare(
        `INSERT INTO run_metrics (run_id, name, step, value) VALUES (?, ?, ?, ?)
                ON CONFLICT (run_id, name) DO UPDATE SET value = excluded.value, step = excluded.step`,
      )
      .run(runId, name, step, value);
  }

  /** An artifact of the run, relative to its artifacts folder; `step` wrote it (null: unknown, runs before schema 3). */
  recordArtifact(runId: string, name: string, step: string | null = null): void {
    this.db.prepare(`INSERT OR IGNORE INTO run_artifacts (run_id, name, step) VALUES (?, ?, ?)`).run(runId, name, step);
  }

  finish(runId: string, status: RunStatus, error: string | null, registered?: { model: string; version: number }): void {
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
   * Runs left "running" by a runner that no longer exists (killed, crashed, machine restarted)
   * are marked failed. Called whenever the registry is opened, so no run stays "running" for ever.
   */
  recoverInterrupted(isAlive: (pid: number) => boolean = pidAlive): string[] {
    const stale = (
      this.db.prepare(`SELECT id, pid FROM runs WHERE status IN ('running', 'queued')`).all() as { id: string; pid: number | null }[]
    ).filter((r) => r.pid === null || !isAlive(r.pid));
    for (const r of stale) {
      // A cancel file means someone cancelled the run and then had to kill its runner (spawn.ts).
      const cancelFile = path.join(this.dataDir, 'runs', r.id, CANCEL_FILE);
      if (fs.existsSync(cancelFile)) {
        this.finish(r.id, 'cancelled', `cancelled: ${readCancelRequest(cancelFile).reason} (runner process ${r.pid ?? '?'} killed)`);
      } else {
        this.finish(r.id, 'failed', `runner process ${r.pid ?? '?'} ended without finishing the run (killed or crashed)`);
      }
    }
    return stale.map((r) => r.id);
  }

  list(limit = 50): RunRecord[] {
    const rows = this.db.prepare(`SELECT * FROM runs ORDER BY created_at DESC, id DESC LIMIT ?`).all(limit) as RunRow[];
    return rows.map((r) => this.toRecord(r));
  }

  get(id: string): RunRecord {
    checkName('run id', id);
    const row = this.db.prepare(`SELECT * FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
    if (!row) throw errors.notFound(`run '${id}'`);
    return this.toRecord(row);
  }

  private toRecord(r: RunRow): RunRecord {
    const runDir = path.resolve(this.dataDir, r.run_dir);
    const artifactRows = this.db.prepare(`SELECT name, step FROM run_artifacts WHERE run_id = ? ORDER BY name`).all(r.id) as {
      name: string;
      step: string | null;
    }[];
    const steps = (this.db.prepare(`SELECT * FROM run_steps WHERE run_id = ? ORDER BY idx`).all(r.id) as StepRow[]).map(
      (s): StepRecord => ({
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
      }),
    );
    const metrics = Object.fromEntries(
      (
        this.db.prepare(`SELECT name, value FROM run_metrics WHERE run_id = ? ORDER BY name`).all(r.id) as { name: string; value: number }[]
      ).map((m) => [m.name, m.value]),
    );
    const artifacts = artifactRows.map((a) => a.name);
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
      steps,
      metrics,
      artifacts,
      registered: r.registered_model && r.registered_version ? { model: r.registered_model, version: r.registered_version } : null,
      trigger: r.trigger,
    };
  }

  private relative(p: string): string {
    return path.relative(this.dataDir, p);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
