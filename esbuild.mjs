// Bundles the three processes' entry points — extension, server, pipeline runner — plus the mlops
// CLI, the prediction log's writer thread and the webviews' scripts (metrics, run graph):
//   node esbuild.mjs              development build, with source maps
//   node esbuild.mjs --production minified, no source maps (what `npm run package` ships)
//   node esbuild.mjs --watch      rebuild on change
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import { noNativeModules } from './build/native-modules.mjs';

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
      // The prediction log's writer thread, started by server/prediction-log/index.ts (in cli.js and
      // server.js) from next to the bundle that holds it.
      'prediction-log-worker': 'server/prediction-log/worker.ts',
    },
    outdir: 'dist',
    packages: 'external',
  },
];
builds[0].entryPoints.server = 'server/main.ts';
// The extension host has its own Node ABI: everything but `vscode` is bundled, and it must
// never reach a native module (the server and the runner own those).
// build/native-modules.mjs fails the build if it would.
builds.push({
  ...common,
  entryPoints: { extension: 'extension/main.ts' },
  outdir: 'dist',
  external: ['vscode'],
  plugins: [noNativeModules('dist/extension.js')],
});
// The webviews' scripts (metrics, the run graph) run in a browser: one self-contained file each.
builds.push({
  ...common,
  platform: 'browser',
  target: 'chrome120',
  format: 'iife',
  entryPoints: { metrics: 'media/metrics/main.ts', dag: 'media/dag/main.ts' },
  outdir: 'media/dist',
});
fs.mkdirSync('media/dist', { recursive: true });
fs.copyFileSync('node_modules/uplot/dist/uPlot.min.css', 'media/dist/uPlot.min.css');

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
