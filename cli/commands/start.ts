import type { Command } from 'commander';
import { train } from './train';
import { withRegistry } from './registry-command';

/** `npm start`: the main job on the embedded default. */
export function startCommand(program: Command): void {
  program
    .command('start')
    .description('train and register the example when the registry has no model, then show the registry')
    .action(async () => {
      const empty = withRegistry(({ models }) => models.list().length === 0);
      if (empty) {
        process.stderr.write('the registry is empty: training the example pipeline first\n');
        const code = await train(undefined, { param: [] }, program.opts<{ verbose?: boolean }>().verbose ?? false);
        if (code !== 0) {
          process.exitCode = code;
          return;
        }
      }
      withRegistry(({ models }) => {
        for (const m of models.list()) {
          const aliases = Object.entries(m.aliases).map(([a, v]) => `${a}→${v}`).join(' ');
          console.log(`model ${m.name}: ${m.versions} version(s), latest ${m.latest}${aliases ? `, ${aliases}` : ''}`);
        }
      });
      // Serving (mlops serve) is added by the prediction-server work; until then start stops here.
      console.log('next: `mlops runs list`, `mlops models show iris` — the prediction server (mlops serve) is not built yet');
    });
}
