// The extension bundle must never include a native module (build/native-modules.mjs, used by
// esbuild.mjs): real esbuild builds of tiny entries through the same plugin.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as esbuild from 'esbuild';
import { nativeModulesIn, noNativeModules } from '../../build/native-modules.mjs';

const ROOT = path.resolve(__dirname, '..', '..');

/** What esbuild.mjs builds the extension with, in memory. */
const EXTENSION_BUILD: esbuild.BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  write: false,
  logLevel: 'silent',
  external: ['vscode'],
};

function bundle(contents: string, options: esbuild.BuildOptions = {}, resolveDir = ROOT) {
  return esbuild.build({
    ...EXTENSION_BUILD,
    stdin: { contents, resolveDir, sourcefile: 'entry.ts', loader: 'ts' },
    plugins: [noNativeModules('test-extension.js')],
    ...options,
  });
}

const refused = (module: RegExp) => (err: unknown) => {
  const message = (err as Error).message;
  assert.match(message, /test-extension\.js must not load a native module: it runs in the VS Code extension host/);
  assert.match(message, module);
  assert.match(message, /imported by (\S*\/)?entry\.ts/);
  return true;
};

test('importing better-sqlite3 or onnxruntime-node fails the build, naming the module and its importer', async () => {
  await assert.rejects(
    bundle(`import Database from 'better-sqlite3';\nexport const db = Database;`),
    refused(/Found: better-sqlite3 \(imported by entry\.ts\)/),
  );
  await assert.rejects(bundle(`export { InferenceSession } from 'onnxruntime-node';`), refused(/onnxruntime-node/));
});

test('a native package left external is refused too', async () => {
  await assert.rejects(
    bundle(`import Database from 'better-sqlite3';\nexport const db = Database;`, { external: ['vscode', 'better-sqlite3'] }),
    refused(/Found: better-sqlite3/),
  );
});

test("the metafile check finds native code however it got in: bundled from a package's folder, or left external", async () => {
  const build = (external: string[]) =>
    esbuild.build({
      stdin: {
        contents: `import Database from 'better-sqlite3';\nexport const db = Database;`,
        resolveDir: ROOT,
        sourcefile: 'entry.ts',
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      write: false,
      logLevel: 'silent',
      metafile: true,
      outfile: 'out.js',
      external,
    });
  assert.deepEqual(nativeModulesIn((await build([])).metafile), [
    { module: 'node_modules/better-sqlite3/lib/index.js', importer: 'entry.ts' },
  ]);
  assert.deepEqual(nativeModulesIn((await build(['better-sqlite3'])).metafile), [{ module: 'better-sqlite3', importer: 'entry.ts' }]);
});

test('a .node binary is refused', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-native-'));
  fs.writeFileSync(path.join(dir, 'addon.node'), 'not really a binary');
  await assert.rejects(
    bundle(`export const addon = require('./addon.node');`, { loader: { '.node': 'file' }, outdir: dir }, dir),
    refused(/addon\.node/),
  );
});

test('the real extension entry and plain Node imports pass', async () => {
  const result = await esbuild.build({
    ...EXTENSION_BUILD,
    entryPoints: [path.join(ROOT, 'extension', 'main.ts')],
    plugins: [noNativeModules('dist/extension.js')],
  });
  assert.deepEqual(result.errors, []);
  await bundle(`import path from 'node:path';\nexport const sep = path.sep;`);
});
