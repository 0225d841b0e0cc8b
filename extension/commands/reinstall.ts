import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { errors } from '../../common/errors';
import type { Deps } from '../deps';
import { settings } from '../settings';
import { command } from './register';

// "MLOps: Reinstall Extension from Workspace": for a developer changing the extension inside the
// devcontainer (or code-server), where the image's /opt/mlops/mlops.vsix is what VS Code installed.
// It packages the workspace's extension and hands the .vsix to VS Code's own "Install from VSIX"
// command, which installs it where this window's extensions run (the container's server, not the
// local machine); then it offers the reload.

const INSTALL_FROM_VSIX = 'workbench.extensions.command.installFromVSIX';

export function registerReinstallCommand(d: Deps): vscode.Disposable {
  return command(d, 'mlops.reinstallExtension', async () => {
    const vsix = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'MLOps: packaging the extension (npm run package)' },
      () => packageWorkspace(d.log),
    );
    await vscode.commands.executeCommand(INSTALL_FROM_VSIX, [vscode.Uri.file(vsix)]);
    // VS Code asks for a reload only when the version changed; this window still runs the old code.
    const choice = await vscode.window.showInformationMessage(`MLOps: installed ${vsix}; reload the window to run it.`, 'Reload Window');
    if (choice) await vscode.commands.executeCommand('workbench.action.reloadWindow');
  });
}

/** `npm run package` in the project, its output in the log; resolves to the new dist/mlops.vsix. */
function packageWorkspace(log: vscode.LogOutputChannel): Promise<string> {
  const dir = settings().projectDirectory;
  if (!dir) return Promise.reject(errors.extensionPackage('no folder', 'open the project folder first'));
  const vsix = path.join(dir, 'dist', 'mlops.vsix');
  log.info(`packaging the extension in ${dir}`);
  // A package left from an earlier build must not pass for this one.
  fs.rmSync(vsix, { force: true });
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'package'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        log.info(line);
        lines.push(line);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => reject(errors.extensionPackage(dir, `cannot run npm: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code !== 0) return reject(errors.extensionPackage(dir, `npm run package exited with ${code ?? signal}: ${lines.at(-1) ?? ''}`));
      if (!fs.existsSync(vsix)) return reject(errors.extensionPackage(dir, `npm run package made no ${vsix}`));
      resolve(vsix);
    });
  });
}
