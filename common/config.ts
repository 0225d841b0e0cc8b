import path from 'node:path';

/**
 * The one setting every component reads to find its data: `MLOPS_DATA_DIR`, or `local_data/`
 * under the working directory (git-ignored, as in the original template).
 */
export function dataDir(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const configured = env.MLOPS_DATA_DIR?.trim();
  return path.resolve(cwd, configured ? configured : 'local_data');
}

/** Root of this package (where package.json and the bundled example live), from dist/ or from source. */
export function packageRoot(): string {
  // Bundles live in <root>/dist; sources in <root>/<dir>/…: both are one level below the root
  // for the files that call this (dist/*.js, common/config.ts).
  return path.resolve(__dirname, '..');
}

/** The pipeline `mlops train` runs when none is named: MLOPS_PIPELINE, else the iris example. */
export function defaultPipeline(env: NodeJS.ProcessEnv = process.env): string {
  return env.MLOPS_PIPELINE?.trim() || path.join(packageRoot(), 'pipeline', 'examples', 'iris', 'pipeline.ts');
}
