import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { errors } from '../../common/errors';
import type { ParamSpecs, ParamValues } from '../sdk/params';
import type { CommandStep } from '../sdk/pipeline';
import { forEachLine, prepareStep, readMetrics, type StepProcessRun } from './step-environment';

export type CommandRun = StepProcessRun;

/** The command a step runs with these params (its argv, `{pipelineDir}` replaced). */
export function commandArgv(step: CommandStep<ParamValues<ParamSpecs>>, params: ParamValues<ParamSpecs>, pipelineDir: string): string[] {
  return (typeof step.command === 'function' ? step.command(params) : step.command).map((a) => a.replaceAll('{pipelineDir}', pipelineDir));
}

/** Runs a step written in any language; returns the metrics it wrote to MLOPS_METRICS_FILE. */
export async function runCommandStep(step: CommandStep<ParamValues<ParamSpecs>>, run: CommandRun): Promise<Record<string, number>> {
  const argv = commandArgv(step, run.params, run.pipelineDir);
  const shown = argv.join(' ');
  const { env, metricsFile } = prepareStep(run);

  const child = spawn(argv[0], argv.slice(1), {
    cwd: run.pipelineDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    signal: run.signal,
    env,
  });
  forEachLine(child.stdout, run.onLine);
  forEachLine(child.stderr, run.onLine);

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
