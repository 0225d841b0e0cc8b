import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GitInfo, StepKind } from '../contract';

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

/**
 * What a run left "running" by a runner that no longer exists (killed, crashed, machine restarted)
 * is finished as: cancelled when a cancel file says someone cancelled it and then had to kill its
 * runner (spawn.ts), failed otherwise. Both backends apply it whenever a registry is opened.
 */
export function interruptedOutcome(dataDir: string, runId: string, pid: number | null): { status: 'cancelled' | 'failed'; error: string } {
  const cancelFile = path.join(dataDir, 'runs', runId, CANCEL_FILE);
  if (fs.existsSync(cancelFile)) {
    return { status: 'cancelled', error: `cancelled: ${readCancelRequest(cancelFile).reason} (runner process ${pid ?? '?'} killed)` };
  }
  return { status: 'failed', error: `runner process ${pid ?? '?'} ended without finishing the run (killed or crashed)` };
}

/**
 * The host a run's runner runs on, recorded with the run: its pid means something only there.
 * MLOPS_HOST_ID when set (a name that outlives a container's hostname, or tells apart hosts that share
 * one), else os.hostname().
 */
export function runnerHost(env: NodeJS.ProcessEnv = process.env): string {
  return env.MLOPS_HOST_ID?.trim() || os.hostname();
}

/** A run left "running" or "queued", as recoverInterrupted reads it. */
export interface UnfinishedRun {
  id: string;
  pid: number | null;
  host: string | null;
  /** Whether its runner's lease (leases.ts runLeaseName) is live. */
  leased: boolean;
}

/**
 * Whether an unfinished run's runner is gone. On this host (and for runs recorded before hosts were,
 * null) its pid says so at once; a pid means nothing elsewhere, so a run of another host is gone once
 * the lease its runner renews has expired (a killed pod, a lost machine).
 */
export function abandoned(run: UnfinishedRun, isAlive: (pid: number) => boolean, host = runnerHost()): boolean {
  if (run.host === null || run.host === host) return run.pid === null || !isAlive(run.pid);
  return !run.leased;
}

/** Whether a process exists (EPERM: it does, under another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
