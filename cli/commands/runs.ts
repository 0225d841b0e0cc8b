import { parsePositive } from '../options';
import type { Command } from 'commander';
import type { RunRecord } from '../../common/contract';
import { num, printResult, seconds, table, when } from '../format';
import { withRegistry } from './registry-command';

export function runsCommand(program: Command): void {
  const runs = program.command('runs').description('pipeline runs and their steps');
  runs
    .command('list')
    .description('recent runs, newest first')
    .option('-n, --limit <n>', 'how many', (v) => parsePositive(v), 20)
    .option('--json', 'print JSON')
    .action((flags: { limit: number; json?: boolean }) =>
      withRegistry(async ({ runs: store }) =>
        printResult(flags, await store.list(flags.limit), (list) =>
          list.length === 0
            ? 'no runs yet: try `mlops train`'
            : table(
                ['run', 'pipeline', 'status', 'started', 'duration', 'accuracy', 'registered'],
                list.map((r) => [
                  r.id,
                  r.pipeline,
                  r.status,
                  when(r.startedAt),
                  seconds(r.durationMs),
                  num(r.metrics.accuracy),
                  registered(r),
                ]),
              ),
        ),
      ),
    );
  runs
    .command('show')
    .description('one run: params, steps, metrics, artifacts')
    .argument('<id>', 'run id')
    .option('--json', 'print JSON')
    .action((id: string, flags: { json?: boolean }) =>
      withRegistry(async ({ runs: store }) => printResult(flags, await store.get(id), describeRun)),
    );
}

function registered(r: RunRecord): string {
  return r.registered ? `${r.registered.model} v${r.registered.version}` : '-';
}

/** `runs show` as text: where the run came from, then its params, steps and metrics as tables. */
function describeRun(r: RunRecord): string {
  const lines = [
    `run ${r.id} · ${r.pipeline} · ${r.status}${r.error ? ` · ${r.error}` : ''}`,
    `folder ${r.runDir}`,
    `git ${r.git.branch ?? '-'} ${r.git.commit?.slice(0, 12) ?? '-'}${r.git.dirty ? ' (dirty)' : ''}`,
    table(
      ['param', 'value'],
      Object.entries(r.params).map(([k, v]) => [k, String(v)]),
    ),
    table(
      ['step', 'status', 'duration', 'log'],
      r.steps.map((s) => [s.name, s.cachedFrom ? `cached from ${s.cachedFrom}` : s.status, seconds(s.durationMs), s.logFile]),
    ),
    table(
      ['metric', 'value'],
      Object.entries(r.metrics).map(([k, v]) => [k, num(v)]),
    ),
  ];
  if (r.artifacts.length) lines.push(`artifacts: ${r.artifacts.join(', ')}`);
  return lines.join('\n');
}
