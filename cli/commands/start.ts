import type { Command } from 'commander';
import { serve } from './serve';
import { train } from './train';
import { withRegistry } from './registry-command';

/** `npm start`: the main job on the embedded default. */
export function startCommand(program: Command): void {
  program
    .command('start')
    .description('train and register the example when the registry has no model, then serve it (mlops serve)')
    .action(async () => {
      const empty = await withRegistry(async ({ models }) => (await models.list()).length === 0);
      if (empty) {
        process.stderr.write('the registry is empty: training the example pipeline first\n');
        const code = await train(undefined, { param: [] }, program.opts<{ verbose?: boolean }>().verbose ?? false);
        if (code !== 0) {
          process.exitCode = code;
          return;
        }
      }
      await withRegistry(async ({ models }) => {
        for (const m of await models.list()) {
          const aliases = Object.entries(m.aliases)
            .map(([a, v]) => `${a}→${v}`)
            .join(' ');
          console.log(`model ${m.name}: ${m.versions} version(s), latest ${m.latest}${aliases ? `, ${aliases}` : ''}`);
        }
      });
      await serve({});
    });
}
