import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { RunEvent } from '../../common/contract';
import { dataDir, packageRoot } from '../../common/config';
import { CANCEL_FILE, writeCancelRequest } from '../../common/registry/runs';

/** How long a cancelled runner gets to stop by itself before SIGKILL (MLOPS_CANCEL_GRACE_MS). */
export const DEFAULT_CANCEL_GRACE_MS = 5000;

export interface StartRun {
  pipelineFile: string;
  params: Record<string, string>;
  verbose?: boolean;
  /** Why the run starts (RunRecord.trigger). */
  trigger?: string;
  /** Ignore the step cache. */
  noCache?: boolean;
  env?: NodeJS.ProcessEnv;
  onEvent(event: RunEvent): void;
  /** What the runner prints itself (step output, warnings); events do not come here. */
  onOutput?(line: string): void;
}

export interface StartedRun {
  runId: string;
  /** Exit code of the runner (128 + the signal's number when it died by one). */
  done: Promise<{ exitCode: number; signal: NodeJS.Signals | null }>;
  /**
   * Writes the run's cancel file (which a busy step sees, see cancellation.ts), sends `signal`, and
   * SIGKILL if the runner still runs after the grace period. Safe to call more than once.
   */
  cancel(signal?: 'SIGTERM' | 'SIGINT', reason?: string): void;
}

/** `20261127-014512-3fa9c1`: sorts by start time, unique enough for one machine. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${crypto.randomBytes(3).toString('hex')}`;
}

/** Starts the pipeline runner as its own process and relays its events (fd 3, JSON lines). */
export function startRun(req: StartRun): StartedRun {
  const runId = newRunId();
  const args = [path.join(packageRoot(), 'dist', 'runner.js'), '--run-id', runId, '--pipeline', req.pipelineFile];
  for (const [k, v] of Object.entries(req.params)) args.push('--param', `${k}=${v}`);
  if (req.verbose) args.push('--verbose');
  if (req.trigger) args.push('--trigger', req.trigger);
  if (req.noCache) args.push('--no-cache');
  const env = req.env ?? process.env;
  const runDir = path.join(dataDir(env), 'runs', runId);
  const cancelFile = path.join(runDir, CANCEL_FILE);
  args.push('--cancel-file', cancelFile);
  // Its own process group, which its command steps' processes share: the SIGKILL after the grace
  // period goes to the whole group, so a step's child that ignores SIGTERM cannot outlive the run.
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env: { ...env, MLOPS_EVENTS_FD: '3' },
    detached: true,
  });
  const events = readline.createInterface({ input: child.stdio[3] as NodeJS.ReadableStream });
  events.on('line', (line) => {
    try {
      req.onEvent(JSON.parse(line) as RunEvent);
    } catch {
      req.onOutput?.(line);
    }
  });
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream! }).on('line', (line) => req.onOutput?.(line));
  }
  let killTimer: NodeJS.Timeout | undefined;
  const done = new Promise<{ exitCode: number; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killTimer);
      resolve({ exitCode: code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0), signal });
    });
  });
  const graceMs = Number(env.MLOPS_CANCEL_GRACE_MS) > 0 ? Number(env.MLOPS_CANCEL_GRACE_MS) : DEFAULT_CANCEL_GRACE_MS;
  let cancelled = false;
  const cancel = (signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM', reason = `cancelled by ${signal}`) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (!cancelled) {
      cancelled = true;
      writeCancelRequest(cancelFile, { signal, reason });
      killTimer = setTimeout(() => killGroup(child.pid), graceMs);
    }
    child.kill(signal);
  };
  return { runId, done, cancel };
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is gone already.
  }
}
