import fs from 'node:fs';
import type { Command } from 'commander';
import { dataDir } from '../../common/config';
import { errors } from '../../common/errors';
import { exportPredictionLog } from '../../server/prediction-log-export';

export function logsCommand(program: Command): void {
  const logs = program
    .command('logs')
    .description('the prediction log (every prediction the server made: time, request id, model, inputs, outputs, latency)');
  logs
    .command('export')
    .description('write the prediction log as CSV or JSON lines')
    .option('-f, --format <format>', 'csv or jsonl', 'csv')
    .option('--since <time>', 'only predictions at or after this ISO time')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (flags: { format: string; since?: string; out?: string }) => {
      if (flags.format !== 'csv' && flags.format !== 'jsonl') throw errors.badOption('--format', 'csv or jsonl', flags.format);
      const since = flags.since === undefined ? undefined : Date.parse(flags.since);
      if (since !== undefined && Number.isNaN(since)) {
        throw errors.badOption('--since', 'an ISO time such as 2026-11-27T10:00:00Z', flags.since!);
      }
      const out = flags.out ? fs.createWriteStream(flags.out) : process.stdout;
      try {
        const rows = await exportPredictionLog(dataDir(), flags.format, out, { since });
        process.stderr.write(`${rows} predictions exported${flags.out ? ` to ${flags.out}` : ''}\n`);
      } finally {
        if (flags.out) await new Promise((resolve) => (out as fs.WriteStream).end(resolve));
      }
    });
}
