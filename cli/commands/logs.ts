import fs from 'node:fs';
import type { Command } from 'commander';
import { dataDir } from '../../common/config';
import { errors } from '../../common/errors';
import { parseModelRef } from '../../common/model-uri';
import { openRegistry } from '../../common/registry';
import { exportLabelled, exportPredictionLog, labelledModels, type LabelledColumns } from '../../server/prediction-log/export';

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
    .option('--labeled', "only predictions with ground truth, as a training CSV: the model's features and its target (--param data=)")
    .option('--model <model>', 'with --labeled: the model (name or URI) whose signature names the columns; default: the only one labelled')
    .action(async (flags: { format: string; since?: string; out?: string; labeled?: boolean; model?: string }) => {
      if (flags.format !== 'csv' && flags.format !== 'jsonl') throw errors.badOption('--format', 'csv or jsonl', flags.format);
      if (flags.labeled) return exportTrainingCsv(flags);
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

/** `logs export --labeled`: the labelled rows of one model under its training column names. */
async function exportTrainingCsv(flags: { format: string; since?: string; out?: string; model?: string }): Promise<void> {
  if (flags.format !== 'csv') throw errors.badOption('--format', 'csv with --labeled (a training CSV)', flags.format);
  if (flags.since !== undefined)
    throw errors.badOption('--since', 'left out with --labeled (every label in the log is exported)', flags.since);
  const dir = dataDir();
  let ref = flags.model === undefined ? null : parseModelRef(flags.model);
  if (!ref) {
    const models = await labelledModels(dir);
    if (models.length !== 1) {
      const found = models.length === 0 ? 'no model has labelled predictions yet (POST /feedback)' : `several do: ${models.join(', ')}`;
      throw errors.labelledModel(found);
    }
    ref = { name: models[0], selector: null };
  }
  const registry = await openRegistry({ dataDir: dir });
  let columns: LabelledColumns;
  try {
    const { signature } = await registry.models.resolve(ref);
    const target = signature.task === 'classification' ? signature.target : signature.targets[0];
    columns = { model: ref.name, features: signature.features.map((f) => f.name), target };
  } finally {
    await registry.close();
  }
  const out = flags.out ? fs.createWriteStream(flags.out) : process.stdout;
  try {
    const rows = await exportLabelled(dir, columns, out);
    process.stderr.write(`${rows} labelled predictions of ${ref.name} exported${flags.out ? ` to ${flags.out}` : ''}\n`);
  } finally {
    if (flags.out) await new Promise((resolve) => (out as fs.WriteStream).end(resolve));
  }
}
