import assert from 'node:assert/strict';
import Mocha from 'mocha';
import * as vscode from 'vscode';
import { apiTokenHeader } from '../../../common/api-token';
import { dataDir } from '../../../common/config';

const EXTENSION_ID = 'mlops-template.mlops-template';

/** Contributions, commands and trees, checked inside VS Code. */
export function registerExtensionSuite(mocha: Mocha): void {
  const suite = Mocha.Suite.create(mocha.suite, 'MLOps extension');
  const test = (title: string, fn: () => Promise<void>) => suite.addTest(new Mocha.Test(title, fn));

  test('activates and registers every contributed command', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, 'extension installed');
    await ext.activate();
    const contributed = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const id of contributed) assert.ok(registered.has(id), `${id} registered`);
  });

  test('contributes the MLOps container with Pipeline Runs and Model Registry, and the settings', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const views = ext.packageJSON.contributes.views.mlops as { id: string; name: string }[];
    assert.deepEqual(
      views.map((v) => v.id),
      ['mlops.runs', 'mlops.models'],
    );
    const config = vscode.workspace.getConfiguration('mlops');
    assert.equal(config.get('server.port'), 8000);
    assert.equal(config.get('server.host'), '127.0.0.1');
    await vscode.commands.executeCommand('workbench.view.extension.mlops');
  });

  test('starts one server however many ask at once, and stops it through the commands', async () => {
    await Promise.all([vscode.commands.executeCommand('mlops.startServer'), vscode.commands.executeCommand('mlops.startServer')]);
    const port = vscode.workspace.getConfiguration('mlops').get<number>('server.port');
    // /api takes the token the server wrote into its data dir (the workspace's local_data/ unless configured).
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
    const dir = dataDir({ MLOPS_DATA_DIR: vscode.workspace.getConfiguration('mlops').get<string>('dataDirectory') || undefined }, folder);
    const status = (await (await fetch(`http://127.0.0.1:${port}/api/status`, { headers: apiTokenHeader(dir) })).json()) as { pid: number };
    assert.ok(status.pid > 0);
    await vscode.commands.executeCommand('mlops.stopServer');
    // A second child would still be listening (or have died on the taken port): nothing may answer now.
    await assert.rejects(fetch(`http://127.0.0.1:${port}/api/status`));
  });

  test('declares that it needs a trusted workspace', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.equal(ext.packageJSON.capabilities.untrustedWorkspaces.supported, false);
  });
}
