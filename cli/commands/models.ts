import type { Command } from 'commander';
import { EXIT, type FeatureSpec, type ModelSignature, type ModelTask } from '../../common/contract';
import { errors, isMlopsError } from '../../common/errors';
import { parseModelRef } from '../../common/model-uri';
import { importModel } from '../../pipeline/import/import-model';
import { num, printJson, printResult, table, when } from '../format';
import { parsePositive } from '../options';
import { withRegistry } from './registry-command';

export function modelsCommand(program: Command): void {
  const models = program.command('models').description('the model registry: versions, aliases, history');
  models
    .command('list')
    .description('registered models')
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) =>
      withRegistry(async ({ models: store }) =>
        printResult(flags, await store.list(), (list) =>
          list.length === 0
            ? 'no models yet: try `mlops train`'
            : table(
                ['model', 'versions', 'latest', 'aliases', 'updated'],
                list.map((m) => [
                  m.name,
                  m.versions,
                  m.latest,
                  Object.entries(m.aliases)
                    .map(([a, v]) => `${a}→${v}`)
                    .join(' ') || '-',
                  when(m.updatedAt),
                ]),
              ),
        ),
      ),
    );
  models
    .command('show')
    .description('a model’s versions (iris), or one version (models:/iris@production, models:/iris/3, iris@production, iris/3)')
    .argument('<ref>', 'name, or a model URI: models:/name/version, models:/name@alias (or name@alias, name/version)')
    .option('--json', 'print JSON')
    .action((text: string, flags: { json?: boolean }) =>
      withRegistry(async ({ models: store }) => {
        const ref = parseModelRef(text);
        if (ref.selector === null) {
          const model = { name: ref.name, versions: await store.versions(ref.name), history: await store.history(ref.name) };
          return printResult(flags, model, ({ versions }) =>
            table(
              ['version', 'aliases', 'accuracy', 'macro F1', 'run', 'commit', 'created'],
              versions.map((v) => [
                v.version,
                v.aliases.join(' ') || '-',
                num(v.metrics.accuracy),
                num(v.metrics.macro_f1),
                v.lineage.runId ?? '-',
                v.lineage.git.commit?.slice(0, 10) ?? '-',
                when(v.createdAt),
              ]),
            ),
          );
        }
        const v = await store.resolve(ref);
        if (flags.json) return printJson(v);
        console.log(
          `${v.model} version ${v.version}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''} · created ${when(v.createdAt)}`,
        );
        console.log(`file ${v.path}\nsha256 ${v.sha256}`);
        for (const line of signatureLines(v.signature)) console.log(line);
        const g = v.lineage.git;
        console.log(
          `lineage: run ${v.lineage.runId ?? '-'} · git ${g.branch ?? '-'} ${g.commit?.slice(0, 12) ?? '-'}${g.dirty ? ' (dirty)' : ''}`,
        );
        for (const f of v.lineage.dataFiles) console.log(`  data ${f.path} sha256 ${f.sha256}`);
        const imported = v.lineage.imported;
        if (imported) console.log(`  imported ${imported.file} sha256 ${imported.sha256} by ${imported.by}`);
        console.log(
          table(
            ['metric', 'value'],
            Object.entries(v.metrics).map(([k, m]) => [k, num(m)]),
          ),
        );
      }),
    );
  models
    .command('promote')
    .description('point an alias (production by default) at a version: `promote iris 3` or `promote models:/iris/3`; kept in the history')
    .argument('<model>', 'model name, or a model URI naming the version (models:/iris/3, models:/iris@staging)')
    .argument('[version]', 'version number (when <model> is a name)', (v) => parsePositive(v))
    .option('-a, --alias <alias>', 'alias to move', 'production')
    .option('--from <alias>', "move the alias to this alias's version and remove this one (--from challenger), atomically")
    .option('--json', 'print JSON')
    .action((text: string, given: number | undefined, flags: PromoteFlags, command: Command) =>
      withRegistry(async ({ models: store }) => {
        const ref = parseModelRef(text);
        if (flags.from !== undefined) {
          if (ref.selector !== null || given !== undefined)
            command.error(`error: --from ${flags.from} names the version; give only the model`);
          const moves = await store.promoteFrom(ref.name, flags.from, flags.alias, cliUser());
          if (flags.json) return printJson(moves);
          for (const m of moves)
            console.log(`${ref.name}@${m.alias}: ${m.fromVersion ?? '(none)'} → ${m.removed ? '(removed)' : m.toVersion}`);
          return;
        }
        // Usage mistakes, said the way commander says its own (one line, exit 2).
        if (ref.selector === null && given === undefined)
          command.error(`error: missing argument 'version' (or name it: models:/${ref.name}/<version>)`);
        if (ref.selector !== null && given !== undefined)
          command.error(`error: ${text} already names a version; drop the argument '${given}'`);
        const name = ref.name;
        const version = given ?? (await store.resolve(ref)).version;
        const move = await store.setAlias(name, flags.alias, version, cliUser());
        if (flags.json) return printJson(move);
        console.log(`${name}@${move.alias}: ${move.fromVersion ?? '(none)'} → ${move.toVersion}`);
      }),
    );
  models
    .command('remove-alias')
    .description('remove an alias (e.g. the challenger); kept in the history')
    .argument('<model>', 'model name')
    .argument('<alias>', 'the alias to remove')
    .option('--json', 'print JSON')
    .action((name: string, alias: string, flags: { json?: boolean }) =>
      withRegistry(async ({ models: store }) => {
        const move = await store.removeAlias(name, alias, cliUser());
        if (flags.json) return printJson(move);
        console.log(move ? `${name}@${alias}: ${move.fromVersion} → (removed)` : `${name} has no alias ${alias}`);
      }),
    );
  models
    .command('history')
    .description('every alias move of a model, oldest first')
    .argument('<model>', 'model name (or a model URI: its model)')
    .option('--json', 'print JSON')
    .action((text: string, flags: { json?: boolean }) =>
      withRegistry(async ({ models: store }) =>
        printResult(flags, await store.history(parseModelRef(text).name), (moves) =>
          table(
            ['when', 'alias', 'from', 'to', 'by'],
            moves.map((m) => [when(m.at), m.alias, m.fromVersion ?? '-', m.removed ? '(removed)' : m.toVersion, m.by]),
          ),
        ),
      ),
    );
  registerCommand(models);
}

interface PromoteFlags {
  alias: string;
  from?: string;
  json?: boolean;
}

const cliUser = () => (process.env.USER ? `cli:${process.env.USER}` : 'cli');

interface RegisterFlags {
  name: string;
  data: string;
  target: string;
  task?: string;
  features?: string;
  gate?: boolean;
  json?: boolean;
}

/** `mlops models register FILE.onnx`: a model trained elsewhere (pipeline/import/import-model.ts, docs/import.md). */
function registerCommand(models: Command): void {
  models
    .command('register')
    .description('import an ONNX model trained elsewhere: evaluate it on a CSV and register it (docs/import.md)')
    .argument('<file>', 'the .onnx file (a scikit-learn ZipMap output is rewritten to a probabilities tensor)')
    .requiredOption('--name <name>', 'registry name of the model')
    .requiredOption('--data <csv>', 'CSV with the feature columns and the target: the training reference and the evaluation')
    .requiredOption('--target <column>', 'the target column of the CSV')
    .option('--task <task>', 'classification or regression (default: classification when the model has a label output)')
    .option('--features <a,b,c>', 'CSV columns of a single [N, F] input, in its order (default: inputs matched to columns by name)')
    .option('--gate', 'refuse the model unless it passes the quality gate (exit 3)')
    .option('--json', 'print the registered version as JSON')
    .action(async (file: string, flags: RegisterFlags) => {
      if (flags.task !== undefined && flags.task !== 'classification' && flags.task !== 'regression')
        throw errors.badOption('--task', 'classification or regression', flags.task);
      const features = flags.features?.split(',').map((f) => f.trim());
      const by = cliUser();
      try {
        const { version: v, zipMapRemoved } = await withRegistry((registry) =>
          importModel(registry, {
            file,
            name: flags.name,
            data: flags.data,
            target: flags.target,
            task: flags.task as ModelTask | undefined,
            features,
            gate: flags.gate === true,
            by,
          }),
        );
        if (flags.json) return printJson(v);
        if (zipMapRemoved) console.log(`rewrote ZipMap output "${zipMapRemoved}" to the probabilities tensor`);
        const scores = Object.entries(v.metrics).map(([k, m]) => `${k} ${num(m)}`);
        console.log(`registered ${v.model} version ${v.version} (${v.signature.task}; ${scores.join(', ')})`);
      } catch (err) {
        if (!isMlopsError(err) || err.code !== 'GATE_REJECTED') throw err;
        process.stderr.write(`mlops: ${err.message}\n`);
        process.exitCode = EXIT.rejected;
      }
    });
}

/** A signature for people: each ONNX input with its features (type, training range or categories), then what it predicts. */
function signatureLines(s: ModelSignature): string[] {
  const feature = (f: FeatureSpec) => {
    const range = f.min !== undefined ? `[${f.min}, ${f.max}]` : '';
    const seen = f.categories ? `{${f.categories.join(', ')}}${f.strict ? ' strict' : ''}` : range;
    return `${f.name} ${f.type}${seen ? ' ' + seen : ''}${f.nullable ? ' nullable' : ''}`;
  };
  const lines = s.inputs.map((input) => {
    const shape = input.rank === 1 ? '[N]' : `[N, ${input.width}]`;
    const features = s.features.filter((f) => f.input === input.name).sort((a, b) => a.column - b.column);
    return `input ${input.name} ${input.type} ${shape}: ${features.map(feature).join(', ')}`;
  });
  if (s.task === 'regression') lines.push(`predicts (regression) ${s.targets.join(', ')} from output ${s.valueOutput}`);
  else lines.push(`predicts (classification) ${s.target}: ${s.classLabels.join(', ')}`);
  return lines;
}
