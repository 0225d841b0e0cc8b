import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { errors } from '../../common/errors';
import type { ParamSpecs, ParamValues } from '../sdk/params';
import type { CommandStep } from '../sdk/pipeline';

export interface CommandRun {
  step: string;
  runId: string;
  runDir: string;
  artifactsDir: string;
  pipelineDir: string;
  params: ParamValues<ParamSpecs>;
  logFile: string;
  /** Lines the command prints (stdout and stderr), for the log and progress events. */
  onLine(line: string): void;
  signal: AbortSignal;
}

/** The command a step runs with these params (its argv, `{pipelineDir}` replaced). */
export function commandArgv(step: CommandStep<ParamValues<ParamSpecs>>, params: ParamValues<ParamSpecs>, pipelineDir: string): string[] {
  return (typeof step.command === 'function' ? step.command(params) : step.command).map((a) => a.replaceAll('{pipelineDir}', pipelineDir));
}

/** Runs a step written in any language; returns the metrics it wrote to MLOPS_METRICS_FILE. */
export async function runCommandStep(step: CommandStep<ParamValues<ParamSpecs>>, run: CommandRun): Promise<Record<string, number>> {
  const argv = commandArgv(step, run.params, run.pipelineDir);
  const shown = argv.join(' ');
  const stepDir = path.join(run.runDir, 'steps', run.step);
  fs.mkdirSync(stepDir, { recursive: true });
  const contextFile = path.join(stepDir, 'context.json');
  const metricsFile = path.join(stepDir, 'metrics.json');
  const context = { runId: run.runId, runDir: run.runDir, step: run.step, artifactsDir: run.artifactsDir, params: run.params, metricsFile };
  fs.writeFileSync(contextFile, JSON.stringify(context, null, 2));

  const child = spawn(argv[0], argv.slice(1), {
    cwd: run.pipelineDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    signal: run.signal,
    env: {
      ...process.env,
      MLOPS_EVENTS_FD: '', // the channel is the runner's own
      MLOPS_RUN_ID: run.runId,
      MLOPS_RUN_DIR: run.runDir,
      MLOPS_STEP: run.step,
      MLOPS_ARTIFACTS_DIR: run.artifactsDir,
      MLOPS_PARAMS: JSON.stringify(run.params),
      MLOPS_CONTEXT_FILE: contextFile,
      MLOPS_METRICS_FILE: metricsFile,
    },
  });
  const lines = (stream: NodeJS.ReadableStream) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      parts.forEach(run.onLine);
    });
    stream.on('end', () => rest && run.onLine(rest));
  };
  lines(child.stdout);
  lines(child.stderr);

  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  if (outcome.error) {
    const how =
      (outcome.error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `could not start: ${argv[0]} not found`
        : `could not run: ${outcome.error.message}`;
    throw errors.commandFailed(run.step, shown, how, run.logFile);
  }
  if (outcome.code !== 0) {
    const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.code}`;
    throw errors.commandFailed(run.step, shown, how, run.logFile);
  }
  for (const name of step.produces ?? []) {
    if (!fs.existsSync(path.join(run.artifactsDir, name))) throw errors.commandNoOutput(run.step, shown, name, run.artifactsDir);
  }
  return readMetrics(run.step, metricsFile);
}

function readMetrics(step: string, file: string): Record<string, number> {
  if (!fs.existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw errors.stepFailed(step, `${file} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw errors.stepFailed(step, `${file} must hold a JSON object of metric name → number`);
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw errors.stepFailed(step, `${file}: metric '${k}' is not a finite number`);
    out[k] = v;
  }
  return out;
}
