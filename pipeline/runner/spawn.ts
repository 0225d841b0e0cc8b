import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';
import type { RunEvent } from '../../common/contract';
import { packageRoot } from '../../common/config';

export interface StartRun {
  pipelineFile: string;
  params: Record<string, string>;
  verbose?: boolean;
  env?: NodeJS.ProcessEnv;
  onEvent(event: RunEvent): void;
  /** What the runner prints itself (step output, warnings); events do not come here. */
  onOutput?(line: string): void;
}

export interface StartedRun {
  runId: string;
  /** Exit code of the runner (1 when it died by a signal). */
  done: Promise<{ exitCode: number; signal: NodeJS.Signals | null }>;
  cancel(): void;
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
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env: { ...(req.env ?? process.env), MLOPS_EVENTS_FD: '3' },
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
  const done = new Promise<{ exitCode: number; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ exitCode: code ?? 1, signal }));
  });
  return { runId, done, cancel: () => child.kill('SIGTERM') };
}
