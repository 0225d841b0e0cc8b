// Entry point of the pipeline runner process (dist/runner.js): one process runs one pipeline.
// Started by `mlops train` and by the server through spawn.ts; events go out on MLOPS_EVENTS_FD.
import { parseArgs } from 'node:util';
import { EXIT } from '../../common/contract';
import { isMlopsError } from '../../common/errors';
import { parseAssignments } from '../sdk/params';
import { Cancellation } from './cancellation';
import { executeRun } from './execute-run';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'run-id': { type: 'string' },
      pipeline: { type: 'string' },
      param: { type: 'string', multiple: true, default: [] },
      // Written by whoever cancels the run (spawn.ts) before it signals us: see cancellation.ts.
      'cancel-file': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      trigger: { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
    },
  });
  if (!values['run-id'] || !values.pipeline) {
    process.stderr.write(
      'usage: runner --run-id ID --pipeline FILE [--cancel-file FILE] [--param key=value ...] [--trigger WHY] [--no-cache] [--verbose]\n',
    );
    return EXIT.usage;
  }
  // Started by spawn.ts (events on a pipe), the runner follows its parent: when the parent dies it stops.
  const cancellation = new Cancellation(values['cancel-file'] ?? null, process.env.MLOPS_EVENTS_FD ? process.ppid : null);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => cancellation.cancel(`received ${sig}`, sig));
  cancellation.watch();
  return executeRun({
    runId: values['run-id'],
    pipelineFile: values.pipeline,
    params: parseAssignments(values.param ?? []),
    verbose: values.verbose ?? false,
    cancellation,
    trigger: values.trigger,
    noCache: values['no-cache'] ?? false,
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Only failures before the run record exists land here (bad arguments, an unusable data folder).
    process.stderr.write(`mlops runner: ${isMlopsError(err) ? err.message : (err as Error).message}\n`);
    if (process.argv.includes('--verbose')) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  },
);
