// The step cache: a step is skipped, and its results reused from an earlier successful run of the
// same pipeline file, when its code, the params it read, its upstream steps' outputs and the files
// it read are all the same. What each step depended on and produced is kept in the registry
// (common/registry/sqlite/step-cache.ts); the reference is docs/pipelines.md, "Step caching".
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import type { StepKind } from '../../common/contract';
import type { CacheSource, CachedValue, Registry, StepCacheEntry } from '../../common/registry';
import type { ParamSpecs, ParamValues } from '../sdk/params';
import { isCommandStep, isNotebookStep, type Artifacts, type Step } from '../sdk/pipeline';
import { FileHashes, filesHash, isPlainData, linkOrCopy, moduleGraphFiles, sha256, stableJson, trackReads } from './cache-keys';
import { commandArgv } from './command-step';
import { snapshotFiles, writtenSince } from './step-environment';
import type { LoadedPipeline } from './load';

type Params = ParamValues<ParamSpecs>;

/** A reused step: what the runner records and hands on in its place. */
export interface Reused {
  /** The run that computed it. */
  origin: string;
  /** Its restored return value (undefined when it had none, or one that cannot be restored and no rerunning step needs). */
  value: unknown;
  /** Its metrics in the source run, recorded again for this one. */
  metrics: { name: string; value: number }[];
  artifacts: string[];
  /** Its notebook copy, relative to the run folder. */
  notebook: string | null;
}

/** One step while it runs: the params and artifacts it reads and the files it writes are noted for its cache entry. */
export interface StepWatch {
  /** The params to give a function step (they record what it reads). */
  readonly params: Params;
  /** The artifacts folder to give a function step (it records the files it reads). */
  readonly artifacts: Artifacts;
  /**
   * Records what the step produced once it succeeded (`registered`: it registered a model, so it is
   * never reused); returns the files it wrote in the artifacts folder.
   */
  done(value: unknown, registered: boolean): Promise<string[]>;
}

export interface StepCacheOptions {
  registry: Registry;
  runId: string;
  runDir: string;
  loaded: LoadedPipeline;
  params: Params;
  /** Look nothing up (runner --no-cache); what runs is still recorded for later runs. */
  noCache: boolean;
}

/**
 * What the run has produced so far (or, in the look-ahead, would have): each finished step's
 * outputs hash (its artifacts' and its value's), and each artifact's sha256.
 */
interface RunState {
  outputs: Map<string, string>;
  artifacts: Map<string, string>;
}

export class StepCache {
  private readonly hashes = new FileHashes();
  private readonly state: RunState = { outputs: new Map(), artifacts: new Map() };
  private readonly codeHashes = new Map<string, string>();
  private moduleHash: string | null = null;

  constructor(private readonly o: StepCacheOptions) {}

  /**
   * Reuses an earlier run's results for `name` when they match: links its artifacts (and
   * notebook copy) into this run, restores its value. Null when the step must run; `log` says
   * why when the reason is not simply that nothing matches.
   */
  async reuse(name: string, artifactsDir: string, log: (message: string) => void): Promise<Reused | null> {
    const step = this.step(name);
    if (this.o.noCache) return null;
    if (step.cache === false) {
      log('not cached: the step says cache: false');
      return null;
    }
    const hit = await this.find(name, this.state);
    if (!hit) return null;
    if (hit.value === 'unrestorable') {
      const needer = await this.rerunNeeding(name, hit);
      if (needer) {
        log(`not cached: step '${needer}' runs and needs this step's return value in memory, which is not plain data to restore`);
        return null;
      }
    }
    const reused = await this.restore(name, hit, artifactsDir);
    produced(this.state, name, hit);
    await this.o.registry.stepCache.record({ ...hit, runId: this.o.runId });
    return reused;
  }

  /** Starts watching a step that runs. */
  watch(name: string, artifacts: Artifacts): StepWatch {
    const before = snapshotFiles(artifacts.dir);
    const wantsAll = this.kind(name) !== 'function';
    const tracked = trackReads(this.o.params);
    // Command and notebook steps may read any file of the run: all of those there when they start count.
    const artifactsRead = new Set<string>(wantsAll ? this.state.artifacts.keys() : []);
    return {
      params: tracked.params,
      artifacts: readsNoted(artifacts, artifactsRead),
      done: async (value, registered) => {
        const read = wantsAll ? Object.keys(this.o.params) : [...tracked.read];
        const written = writtenSince(artifacts.dir, before);
        const reads = Object.fromEntries(
          [...artifactsRead].filter((a) => !written.includes(a)).map((a) => [a, this.state.artifacts.get(a) ?? 'missing']),
        );
        const entry = this.entry(name, read, written, artifacts.dir, value, reads);
        produced(this.state, name, entry);
        // A step that registers a model always runs: a cached run registers as an uncached one would.
        if (!registered) await this.o.registry.stepCache.record(entry);
        return written;
      },
    };
  }

  private entry(
    name: string,
    read: string[],
    written: string[],
    artifactsDir: string,
    value: unknown,
    reads: Record<string, string>,
  ): StepCacheEntry {
    const params = Object.fromEntries(read.sort().map((k) => [k, this.o.params[k]]));
    const files = Object.fromEntries(this.inputFiles(name, read).map((f) => [f, this.hashes.of(f)]));
    const artifacts = Object.fromEntries(written.map((a) => [a, this.hashes.of(path.join(artifactsDir, a))]));
    const codeHash = this.codeHash(name);
    const upstreamHash = this.upstreamHash(name, this.state.outputs) ?? '';
    const { kind, hash } = this.keepValue(name, value);
    // A value that cannot be kept is known by what made it: the same code on the same inputs.
    const identity = sha256(stableJson([codeHash, upstreamHash, params, files, reads]));
    const valueHash = kind === 'unrestorable' ? `unrestorable:${identity}` : hash;
    const outputsHash = sha256(stableJson([artifacts, valueHash]));
    const { runId, loaded } = this.o;
    return {
      runId,
      step: name,
      pipelineFile: loaded.file,
      codeHash,
      upstreamHash,
      params,
      files,
      reads,
      artifacts,
      value: kind,
      outputsHash,
      origin: runId,
    };
  }

  /** Serializes plain data to outputs/<step>.bin, so that a later run can restore it. */
  private keepValue(name: string, value: unknown): { kind: CachedValue; hash: string } {
    if (value === undefined) return { kind: 'none', hash: 'none' };
    if (!isPlainData(value)) return { kind: 'unrestorable', hash: '' };
    const bytes = v8.serialize(value);
    const file = this.valueFile(this.o.runDir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bytes);
    return { kind: 'bin', hash: sha256(bytes) };
  }

  private valueFile(runDir: string, step: string): string {
    return path.join(runDir, 'outputs', `${step}.bin`);
  }

  /** The newest earlier entry for `name` that still matches, given what the run has produced (`state`). */
  private async find(name: string, state: RunState): Promise<CacheSource | null> {
    const upstream = this.upstreamHash(name, state.outputs);
    if (upstream === null) return null;
    const candidates = await this.o.registry.stepCache.candidates(this.o.loaded.file, name, this.codeHash(name), upstream);
    return candidates.find((c) => c.runId !== this.o.runId && this.matches(name, c, state)) ?? null;
  }

  private matches(name: string, c: CacheSource, state: RunState): boolean {
    const params = this.o.params;
    // Command and notebook steps see every param: one more or one fewer is a change too.
    if (this.kind(name) !== 'function' && Object.keys(c.params).length !== Object.keys(params).length) return false;
    for (const [k, v] of Object.entries(c.params)) {
      if (!Object.hasOwn(params, k) || stableJson(params[k]) !== stableJson(v)) return false;
    }
    for (const [file, hash] of Object.entries(c.files)) if (this.hashes.of(file) !== hash) return false;
    // The earlier steps' files it read, as this run has them: also covers a step that reads another's output without `needs`.
    if (this.kind(name) !== 'function' && Object.keys(c.reads).length !== state.artifacts.size) return false;
    for (const [a, hash] of Object.entries(c.reads)) if ((state.artifacts.get(a) ?? 'missing') !== hash) return false;
    // The source's files must still be there as they were (a run folder may have been cleaned up).
    for (const [a, hash] of Object.entries(c.artifacts)) if (this.hashes.of(path.join(c.runDir, 'artifacts', a)) !== hash) return false;
    return c.value !== 'bin' || fs.existsSync(this.valueFile(c.runDir, name));
  }

  /**
   * A step whose value cannot be restored is reused only when no step that will run needs it in
   * memory. Looks ahead: which later steps would be reused if this one is (and, backwards, which
   * reused steps must run after all because a running step needs their value). Returns the name
   * of a running step that needs `name`'s value, or null.
   */
  private async rerunNeeding(name: string, hit: CacheSource): Promise<string | null> {
    const order = this.o.loaded.order;
    const later = order.slice(order.indexOf(name) + 1);
    const predicted: RunState = { outputs: new Map(this.state.outputs), artifacts: new Map(this.state.artifacts) };
    produced(predicted, name, hit);
    const hits = new Map<string, CacheSource | null>([[name, hit]]);
    for (const t of later) {
      const h = this.o.noCache || this.step(t).cache === false ? null : await this.find(t, predicted);
      hits.set(t, h);
      if (h) produced(predicted, t, h);
    }
    const runs = new Set(later.filter((t) => !hits.get(t)));
    for (const t of [...later].reverse()) {
      if (!runs.has(t)) continue;
      for (const need of this.step(t).needs ?? []) if (hits.get(need)?.value === 'unrestorable') runs.add(need);
    }
    return later.find((t) => runs.has(t) && (this.step(t).needs ?? []).includes(name)) ?? null;
  }

  private async restore(name: string, hit: CacheSource, artifactsDir: string): Promise<Reused> {
    const linked: string[] = [];
    try {
      for (const a of Object.keys(hit.artifacts)) {
        linkOrCopy(path.join(hit.runDir, 'artifacts', a), path.join(artifactsDir, a));
        linked.push(path.join(artifactsDir, a));
      }
      const results = await this.o.registry.stepCache.results(hit.runId, name);
      if (results.notebook) {
        linkOrCopy(path.join(hit.runDir, results.notebook), path.join(this.o.runDir, results.notebook));
        linked.push(path.join(this.o.runDir, results.notebook));
      }
      let value: unknown = undefined;
      if (hit.value === 'bin') {
        const file = this.valueFile(this.o.runDir, name);
        linkOrCopy(this.valueFile(hit.runDir, name), file);
        linked.push(file);
        value = v8.deserialize(fs.readFileSync(file));
      }
      return { origin: hit.origin, value, metrics: results.metrics, artifacts: Object.keys(hit.artifacts), notebook: results.notebook };
    } catch (err) {
      // Half a reuse is worse than none: the step runs instead, on a clean slate.
      for (const f of linked) fs.rmSync(f, { force: true });
      throw err;
    }
  }

  /** Hash of the outputs of every step `name` depends on, directly or not; null if one has not finished. */
  private upstreamHash(name: string, outputs: Map<string, string>): string | null {
    const ancestors = new Set<string>();
    const visit = (n: string) => {
      for (const m of this.step(n).needs ?? []) {
        if (ancestors.has(m)) continue;
        ancestors.add(m);
        visit(m);
      }
    };
    visit(name);
    const parts: string[] = [];
    for (const a of [...ancestors].sort()) {
      const h = outputs.get(a);
      if (h === undefined) return null;
      parts.push(`${a}\t${h}`);
    }
    return sha256(parts.join('\n'));
  }

  /**
   * A function step's code is the pipeline module and the project modules it imports; a command's,
   * its argv and the files the argv names; a notebook's, the notebook file (and how it is run).
   */
  private codeHash(name: string): string {
    const known = this.codeHashes.get(name);
    if (known) return known;
    const step = this.step(name);
    const dir = this.o.loaded.dir;
    let hash: string;
    if (isCommandStep(step)) {
      const argv = commandArgv(step, this.o.params, dir);
      const named = argv.map((a) => path.resolve(dir, a)).filter((f) => fs.existsSync(f) && fs.statSync(f).isFile());
      hash = sha256(stableJson(['command', argv, filesHash(named, this.hashes), step.produces ?? []]));
    } else if (isNotebookStep(step)) {
      const file = path.resolve(dir, step.notebook);
      hash = sha256(stableJson(['notebook', this.hashes.of(file), step.kernel ?? null, step.timeoutSec ?? null, step.produces ?? []]));
    } else {
      this.moduleHash ??= filesHash(moduleGraphFiles(this.o.loaded.file), this.hashes);
      hash = sha256(stableJson(['function', this.moduleHash]));
    }
    this.codeHashes.set(name, hash);
    return hash;
  }

  /** The files a step reads: its declared inputs, and the path params among those it read. */
  private inputFiles(name: string, read: string[]): string[] {
    const specs = this.o.loaded.pipeline.params;
    const declared = (this.step(name).inputs ?? []).map((f) => path.resolve(this.o.loaded.dir, f));
    const paths = read.filter((k) => specs[k]?.type === 'path').map((k) => String(this.o.params[k]));
    return [...new Set([...declared, ...paths])].sort();
  }

  private step(name: string): Step<Params> {
    return this.o.loaded.pipeline.steps[name];
  }

  private kind(name: string): StepKind {
    return stepKind(this.step(name));
  }
}

/** Notes a finished (or reused) step's outputs in the run's state. */
function produced(state: RunState, step: string, e: StepCacheEntry): void {
  state.outputs.set(step, e.outputsHash);
  for (const [a, hash] of Object.entries(e.artifacts)) state.artifacts.set(a, hash);
}

/** The artifacts folder, noting the names of the files a step reads (or asks the path or existence of). */
function readsNoted(artifacts: Artifacts, read: Set<string>): Artifacts {
  const note = <T>(name: string, result: T): T => {
    read.add(name);
    return result;
  };
  return {
    ...artifacts,
    path: (name) => note(name, artifacts.path(name)),
    exists: (name) => note(name, artifacts.exists(name)),
    readJson: <T>(name: string) => note(name, artifacts.readJson<T>(name)),
  };
}

/** How a step runs, as its record says. */
export function stepKind<P>(step: Step<P>): StepKind {
  if (isNotebookStep(step)) return 'notebook';
  return isCommandStep(step) ? 'command' : 'function';
}
