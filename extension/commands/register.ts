import * as vscode from 'vscode';
import type { Deps } from '../deps';
import { errorMessage } from '../error-message';
import { baseUrl } from '../settings';

/**
 * Registers a command whose failures all read the same: "MLOps: <title>: <message>" with a Show Logs
 * button, and the stack in the MLOps log. Every command of the extension goes through here.
 */
export function command<A extends unknown[]>(
  d: Pick<Deps, 'log' | 'context'>,
  id: string,
  run: (...args: A) => unknown,
): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: A) => {
    try {
      return await run(...args);
    } catch (err) {
      let url = '(mlops.server settings)';
      try {
        url = baseUrl();
      } catch {
        // the settings themselves are what failed: the message says which
      }
      const message = errorMessage(err, url);
      d.log.error(`${id}: ${err instanceof Error ? (err.stack ?? err.message) : message}`);
      const pick = await vscode.window.showErrorMessage(`MLOps: ${title(d, id)}: ${message}`, 'Show Logs');
      if (pick) d.log.show();
    }
  });
}

function title(d: Pick<Deps, 'context'>, id: string): string {
  const manifest = d.context.extension.packageJSON as { contributes?: { commands?: { command: string; title: string }[] } };
  return manifest.contributes?.commands?.find((c) => c.command === id)?.title ?? id;
}
