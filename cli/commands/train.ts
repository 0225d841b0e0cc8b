import path from 'node:path';
import type { Command } from 'commander';
import { EXIT, type RunEvent } from '../../common/contract';
import { defaultPipeline } from '../../common/config';
import { openRegistry } from '../../common/registry';
import { parseAssignments } from '../../pipeline/sdk/params';
import { startRun } from '../../pipeline/runner/spawn';
import { num, printJson, seconds } from '../format';

export interface TrainFlags {
  param: string[];
  json?: boolean;
  quiet?: boolean;
  /** commander's name for --no-cache: false when it is given. */
  cache?: boolean;
}

export function trainCommand(program: Command): void {
  program
    .command('train')
    .description('run a pipeline in its own process: exit 0 ok, 1 failed, 2 usage error, 3 rejected by the gate, 130/143 cancelled')
    .argument('[pipeline]', 'pipeline module (.ts or .js); default: MLOPS_PIPELINE or the iris example')
    .option('-p, --param <key=value>', 'set a pipeline param (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('--json', 'print the finished run record as JSON instead of progress lines')
    .option('-q, --quiet', 'print only the outcome')
    .option('--no-cache', 'run every step, reusing nothing from earlier runs (the step cache)')
    .action(async (pipeline: string | undefined, flags: TrainFlags) => {
      process.exitCode = await train(pipeline, flags, program.opts<{ verbose?: boolean }>().verbose ?? false);
    });
}

/** Runs a pipeline with progress lines on stderr… or JSON on stdout; returns the exit code. */
export async function train(pipeline: string | undefined, flags: TrainFlags, verbose: boolean): Promise<number> {
  const pipelineFile = path.resolve(pipeline ?? defaultPipeline());
  const params = parseAssignments(flags.param);
  const say = (line: string) => {
    if (!flags.json && !flags.quiet) process.stderr.write(line + '\n');
  };
  const started = startRun({
    pipelineFile,
    params,
    verbose,
    noCache: flags.cache === false,
    onEvent: (e) => describe(e).forEach(say),
    onOutput: (line) => say(`  | ${line}`),
  });
  // Ctrl-C or a SIGTERM to the CLI cancels the run: the runner is told, given its grace period,
  // killed if need be, and waited for, so that no runner outlives the command.
  const forward = (signal: 'SIGINT' | 'SIGTERM') => {
    say(`mlops train: ${signal}: cancelling run ${started.runId} …`);
    started.cancel(signal, `mlops train received ${signal}`);
  };
  const onSigint = () => forward('SIGINT');
  const onSigterm = () => forward('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const { exitCode } = await started.done.finally(() => {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  });

  const registry = await openRegistry(); // also marks the run failed if the runner died without finishing it
  try {
    const run = await registry.runs.get(started.runId);
    if (flags.json) {
      printJson(run);
    } else if (run.status === 'succeeded') {
      const m = run.metrics;
      const what = run.registered ? `registered ${run.registered.model} version ${run.registered.version}` : 'succeeded';
      // A regression run has no accuracy: it reports its RMSE and R² (pipeline/steps/evaluate.ts).
      const scores =
        m.rmse !== undefined ? `RMSE ${num(m.rmse)} · R² ${num(m.r2)}` : `accuracy ${num(m.accuracy)} · macro F1 ${num(m.macro_f1)}`;
      process.stdout.write(`${what} · ${scores} · ${seconds(run.durationMs)} · run ${run.id}\n`);
    } else {
      process.stderr.write(`mlops train: run ${run.id} ${run.status}: ${run.error ?? 'no reason recorded'}\n`);
    }
    // From the run's record, which is right even when the runner was killed (see spawn.ts).
    if (run.status === 'succeeded') return EXIT.ok;
    if (run.status === 'rejected') return EXIT.rejected;
    if (run.status === 'cancelled') return exitCode === EXIT.interrupted ? EXIT.interrupted : EXIT.terminated;
    return exitCode === EXIT.usage ? EXIT.usage : EXIT.failed;
  } finally {
    await registry.close();
  }
}

function describe(e: RunEvent): string[] {
  switch (e.type) {
    case 'run.started':
      return [`run ${e.runId} · pipeline ${e.pipeline} · ${e.steps.length} steps`];
    case 'step.started':
      return [`[${e.index + 1}/${e.total}] ${e.step} …`];
    case 'step.finished':
      if (e.cachedFrom) return [`[${e.index + 1}/${e.total}] ${e.step} cached: reused run ${e.cachedFrom}`];
      return [`[${e.index + 1}/${e.total}] ${e.step} ${e.status} in ${seconds(e.durationMs)}`];
    case 'log':
      // errors are said once, in the run's outcome line
      return e.level === 'error' ? [] : [`      ${e.level === 'warn' ? 'warning: ' : ''}${e.message}`];
    default:
      return [];
  }
}
