// The `mlops` command line. Each subcommand lives in commands/<name>.ts.
import { Command, CommanderError } from 'commander';
import { EXIT } from '../common/contract';
import { isMlopsError, isUsageError } from '../common/errors';
import { alertsCommand } from './commands/alerts';
import { dbCommand } from './commands/db';
import { feedbackCommand } from './commands/feedback';
import { loadtestCommand } from './commands/loadtest';
import { logsCommand } from './commands/logs';
import { modelsCommand } from './commands/models';
import { retrainCommand } from './commands/retrain';
import { runsCommand } from './commands/runs';
import { serveCommand } from './commands/serve';
import { startCommand } from './commands/start';
import { trainCommand } from './commands/train';

function program(): Command {
  const p = new Command('mlops')
    .description('Train, register, serve and watch ML models (data in MLOPS_DATA_DIR, default ./local_data)')
    .option('--verbose', 'show stack traces of unexpected errors')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.split('\n')[0] + '\n') });
  trainCommand(p);
  runsCommand(p);
  modelsCommand(p);
  startCommand(p);
  serveCommand(p);
  logsCommand(p);
  loadtestCommand(p);
  alertsCommand(p);
  retrainCommand(p);
  feedbackCommand(p);
  dbCommand(p);
  // Every subcommand inherits the same strictness and exit codes.
  for (const c of allCommands(p)) c.exitOverride().configureOutput(p.configureOutput());
  return p;
}

function allCommands(c: Command): Command[] {
  return c.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}

async function main(argv: string[]): Promise<void> {
  const p = program();
  try {
    await p.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage mistakes with 2.
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    const verbose = p.opts<{ verbose?: boolean }>().verbose;
    if (isMlopsError(err)) {
      process.stderr.write(`mlops: ${err.message}\n`);
    } else {
      process.stderr.write(`mlops: ${(err as Error).message ?? String(err)}\n`);
      if (!verbose) process.stderr.write('(run again with --verbose for details)\n');
    }
    if (verbose) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = isUsageError(err) ? EXIT.usage : EXIT.failed;
  }
}

void main(process.argv);
