// `npm run test:vscode`: the extension's integration suite inside a real VS Code (Electron), with
// @vscode/test-electron and mocha. It downloads VS Code into .vscode-test/, so it runs wherever
// that download is possible (not on this project's offline CI machines, where the end-to-end
// test in test/e2e drives code-server instead).
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..', '..');
  const out = path.join(os.tmpdir(), 'mlops-vscode-integration');
  await esbuild.build({
    entryPoints: { index: path.join(__dirname, 'suite', 'index.ts') },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outdir: out,
    external: ['vscode', 'mocha'],
    nodePaths: [path.join(root, 'node_modules')],
  });
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(out, 'index.js'),
    launchArgs: [root, '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { MLOPS_DATA_DIR: path.join(out, 'data'), NODE_PATH: path.join(root, 'node_modules') },
  });
}

main().catch((err: unknown) => {
  console.error(`vscode integration tests: ${(err as Error).message}`);
  process.exit(1);
});
