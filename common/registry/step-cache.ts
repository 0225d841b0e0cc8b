/** How a step's return value was kept: none (undefined), serialized to outputs/<step>.bin, or not restorable (not plain data). */
export type CachedValue = 'none' | 'bin' | 'unrestorable';

/** What one finished step of a run depended on and produced (pipeline/runner/step-cache.ts computes it). */
export interface StepCacheEntry {
  runId: string;
  step: string;
  /** Absolute path of the pipeline module: only runs of the same file are sources. */
  pipelineFile: string;
  codeHash: string;
  /** The outputs hashes of the steps it depends on (transitively). */
  upstreamHash: string;
  /** The params it read, name → value. */
  params: Record<string, unknown>;
  /** The files it read (declared inputs, path params), absolute path → sha256. */
  files: Record<string, string>;
  /** The earlier steps' artifacts it read, name → sha256 ('missing' for one it looked for and did not find). */
  reads: Record<string, string>;
  /** Its artifacts, relative to the run's artifacts folder → sha256. */
  artifacts: Record<string, string>;
  value: CachedValue;
  outputsHash: string;
  /** The run that computed it: itself, or the run a cached step reused. */
  origin: string;
}

/** An entry of an earlier successful run, with that run's folder. */
export interface CacheSource extends StepCacheEntry {
  runDir: string;
}

/** Sources looked at per step, newest first: enough for a few param variations, bounded for a long history. */
export const CACHE_CANDIDATES = 20;
