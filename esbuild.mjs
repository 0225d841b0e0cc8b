// Bundles the three processes' entry points (plus the mlops CLI):
//   node esbuild.mjs              development build, with source maps
//   node esbuild.mjs --production minified, no source maps (what `npm run package` ships)
//   node esbuild.mjs --watch      rebuild on change
import * as esbuild from 'esbuild';
import fs from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'info',
};

const builds = [
  // Node processes keep every npm package external: native modules (onnxruntime-node,
  // better-sqlite3) cannot be bundled, and the others load from node_modules just as fast.
  {
    ...common,
    entryPoints: {
      cli: 'cli/main.ts',
      runner: 'pipeline/runner/main.ts',
    },
    outdir: 'dist',
    packages: 'external',
  },
];
if (fs.existsSync('extension/main.ts')) {
  // The extension host has its own Node ABI: everything but `vscode` is bundled, and it must
  // never reach a native module (the server and the runner own those).
  builds.push({ ...common, entryPoints: { extension: 'extension/main.ts' }, outdir: 'dist', external: ['vscode'] });
}
if (fs.existsSync('server/main.ts')) {
  builds[0].entryPoints.server = 'server/main.ts';
}

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
