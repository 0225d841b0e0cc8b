import path from 'node:path';
import type { Command } from 'commander';
import { dataDir } from '../../common/config';
import { errors } from '../../common/errors';
import { openRegistry, type OpenRegistry } from '../../common/registry';
import { copyRegistry } from '../../common/registry/copy';
import { artifactDir, LocalArtifactStore } from '../../common/registry/local-artifacts';
import { copyPredictionLog } from '../../server/prediction-log/copy';

/** A registry named on the command line: `sqlite:<data folder>` or a postgres:// URL. */
interface RegistrySpec {
  databaseUrl: string | undefined;
  dataDir: string;
  artifactDir: string;
}

function parseSpec(option: string, value: string, artifacts: string | undefined): RegistrySpec {
  if (value.startsWith('sqlite:')) {
    const dir = path.resolve(value.slice('sqlite:'.length) || dataDir());
    return { databaseUrl: undefined, dataDir: dir, artifactDir: path.resolve(artifacts ?? dir) };
  }
  if (/^postgres(ql)?:\/\//.test(value)) {
    // Local files (run folders) stay in this machine's data folder; model files go to the shared folder.
    return { databaseUrl: value, dataDir: dataDir(), artifactDir: path.resolve(artifacts ?? artifactDir(dataDir())) };
  }
  throw errors.badOption(option, 'sqlite:<data folder> or postgres://user@host:port/database', value);
}

const behind = (schema: { version: number; expected: number }) => (schema.version < schema.expected ? ': run mlops db migrate' : '');

function openSpec(spec: RegistrySpec): Promise<OpenRegistry> {
  return openRegistry({
    dataDir: spec.dataDir,
    artifacts: new LocalArtifactStore(spec.artifactDir),
    env: { ...process.env, MLOPS_DATABASE_URL: spec.databaseUrl ?? '' },
  });
}

export function dbCommand(program: Command): void {
  const db = program
    .command('db')
    .description('the registry database: SQLite in the data folder (default) or PostgreSQL (MLOPS_DATABASE_URL)');

  db.command('status')
    .description(
      'which database and artifact folder are in use, its schema version, and what it holds (opening it migrates, as every command does)',
    )
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const registry = await openRegistry();
      try {
        const schema = await registry.schema();
        const models = await registry.models.list();
        const status = {
          backend: registry.backend,
          location: registry.location,
          artifacts: registry.artifacts.location,
          schema,
          models: models.length,
          versions: models.reduce((n: number, m) => n + m.versions, 0),
        };
        if (flags.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        else {
          process.stdout.write(
            `registry   ${status.backend}  ${status.location}\n` +
              `schema     ${schema.version} (this code expects ${schema.expected})${behind(schema)}\n` +
              `artifacts  ${status.artifacts}\n` +
              `models     ${status.models} (${status.versions} versions)\n`,
          );
        }
        if (schema.version !== schema.expected) process.exitCode = 1;
      } finally {
        await registry.close();
      }
    });

  db.command('migrate')
    .description('bring the database schema up to date (the server and the runner also do it when they open it)')
    .action(async () => {
      const registry = await openRegistry();
      try {
        const { version } = await registry.schema();
        process.stdout.write(`${registry.backend} ${registry.location}: schema at version ${version}\n`);
      } finally {
        await registry.close();
      }
    });

  db.command('copy')
    .description(
      'copy a registry (rows, model files checked against their sha256, and the prediction log with its feedback) ' +
        'into an empty one, e.g. local SQLite into shared PostgreSQL',
    )
    .requiredOption('--from <registry>', 'sqlite:<data folder> or postgres://…')
    .requiredOption('--to <registry>', 'sqlite:<data folder> or postgres://… (must be empty)')
    .option('--from-artifacts <folder>', 'where the source keeps its model files (default: its data folder)')
    .option('--to-artifacts <folder>', 'where the target keeps its model files (default: MLOPS_ARTIFACT_DIR, else its data folder)')
    .action(async (flags: { from: string; to: string; fromArtifacts?: string; toArtifacts?: string }) => {
      const fromSpec = parseSpec('--from', flags.from, flags.fromArtifacts);
      const toSpec = parseSpec('--to', flags.to, flags.toArtifacts);
      const from = await openSpec(fromSpec);
      try {
        const to = await openSpec(toSpec);
        try {
          const tty = process.stderr.isTTY;
          const report = await copyRegistry(from, to, (line) => process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`));
          if (tty) process.stderr.write('\n');
          // The prediction log and its labels follow when they move from a data folder into PostgreSQL.
          const log =
            fromSpec.databaseUrl === undefined && toSpec.databaseUrl !== undefined
              ? await copyPredictionLog(fromSpec.dataDir, toSpec.databaseUrl, {
                  progress: (done, total) => process.stderr.write(tty ? `\r\x1b[Kprediction log: ${done}/${total}` : ''),
                })
              : null;
          if (tty && log) process.stderr.write('\n');
          const rows = Object.entries(report.tables)
            .filter(([, n]) => n > 0)
            .map(([t, n]) => `${n} ${t}`)
            .join(', ');
          process.stdout.write(
            `copied ${from.location} → ${to.location}: ${rows || 'no rows'}; ${report.artifacts} model files (${report.bytes} bytes)` +
              (log ? `; prediction log: ${log.predictions} predictions, ${log.feedback} feedback labels` : '') +
              '\n',
          );
        } finally {
          await to.close();
        }
      } finally {
        await from.close();
      }
    });
}
