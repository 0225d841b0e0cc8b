import * as ort from 'onnxruntime-node';
import type { ModelVersion, ServingInfo } from '../../common/contract';
import { errors, isMlopsError, MlopsError } from '../../common/errors';
import type { Registry } from '../../common/registry';
import { modelKey, type ArtifactStore } from '../../common/registry/artifacts';
import { DriftMonitor } from '../monitoring/drift';
import type { EventBus } from '../event-bus';
import { infer, type Prediction } from '../../common/inference';
import { outputNames } from '../../common/signature';
import type { InputBatch } from '../../common/tensor-layout';
import { Batcher, type BatchOptions } from './batcher';
import { sampleRecords } from './sample';
import { batchFromRecords } from './validate';

/** What a holder follows, and how it reports. */
export interface HolderOptions {
  model: string | null;
  selector: string | number | null;
  pollMs: number;
  serving: ServingOptions;
  /** The challenger's: no version under its alias means nothing to run beside the champion, not an error. */
  optional?: boolean;
  /** Throws when a version may not be served by this holder (the challenger: it must take the champion's inputs). */
  accept?: (v: ModelVersion) => void;
  /** Says what it serves now; default: a 'serving' event. */
  announce?: (holder: ModelHolder) => void;
}

export interface ServingOptions {
  driftWindow: number;
  /** Micro-batching, or null to run each request on its own. */
  batch: BatchOptions | null;
  /** After every session.run: rows and seconds (the batch-size and inference-time metrics). */
  onRun(model: ServedModel, rows: number, seconds: number): void;
}

/** A loaded, verified, warmed-up version; its session is released once retired and idle. */
export class ServedModel {
  readonly info: ServingInfo;
  readonly drift: DriftMonitor;
  readonly featureNames: string[];
  readonly metricLabels: { model: string; version: string };
  /** `{"variety":"Setosa"}` per class: /predict's answer fragments (empty for regression). */
  readonly labelJson: string[];
  /** `{"price":` then `,"rent":` … per regression target: /predict's answer keys (empty for classification). */
  readonly valueKeys: string[];
  private inflight = 0;
  private retired = false;
  private readonly batcher: Batcher | null;

  constructor(
    readonly version: ModelVersion,
    private readonly session: ort.InferenceSession,
    selector: string | number,
    private readonly serving: ServingOptions,
  ) {
    this.info = {
      model: version.model,
      version: version.version,
      sha256: version.sha256,
      selector,
      aliases: version.aliases,
      loadedAt: new Date().toISOString(),
      signature: version.signature,
      metrics: version.metrics,
    };
    this.featureNames = version.signature.features.map((f) => f.name);
    this.metricLabels = { model: version.model, version: String(version.version) };
    const s = version.signature;
    this.labelJson = s.task === 'classification' ? s.classLabels.map((label) => JSON.stringify({ [s.target]: labelValue(s, label) })) : [];
    this.valueKeys = s.task === 'regression' ? s.targets.map((t, k) => (k ? ',' : '{') + JSON.stringify(t) + ':') : [];
    this.drift = new DriftMonitor(s, version.reference, serving.driftWindow);
    this.batcher = serving.batch ? new Batcher((batch) => this.run(batch, true), s, serving.batch) : null;
  }

  /** Rows in, classes and probabilities (or regression values) out; with batching on, concurrent calls share one session.run. */
  async predict(batch: InputBatch, withProbabilities: boolean): Promise<Prediction> {
    this.inflight++;
    try {
      return await (this.batcher ? this.batcher.submit(batch) : this.run(batch, withProbabilities));
    } finally {
      this.inflight--;
      if (this.retired && this.inflight === 0) void this.release();
    }
  }

  private async run(batch: InputBatch, withProbabilities: boolean): Promise<Prediction> {
    const t0 = performance.now();
    const out = await infer(this.session, this.version.signature, batch, withProbabilities);
    this.serving.onRun(this, batch.n, (performance.now() - t0) / 1000);
    return out;
  }

  /** No new requests come here; the session goes when the last in-flight one is done. */
  retire(): void {
    this.retired = true;
    if (this.inflight === 0) void this.release();
  }

  private released = false;
  private async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

/** A class label as /predict answers it: a number for int64 class values, else the label. */
export function labelValue(s: ModelVersion['signature'] & { task: 'classification' }, label: string): string | number {
  return s.labelKind === 'int64' ? Number(label) : label;
}

/**
 * Holds the served version and follows the registry: when the alias it serves moves (or a new
 * version appears, for `latest`), it loads the new version, checks its sha256 and signature, warms
 * it up and swaps it in; requests already running finish on the old one. A version that fails any
 * check is refused and the old one keeps serving.
 */
export class ModelHolder {
  private served: ServedModel | null = null;
  private lastError: string | null = null;
  private unwatch: (() => void) | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly registry: Registry,
    private readonly opts: HolderOptions,
    private readonly bus: EventBus,
    private readonly onSwap: (outcome: 'ok' | 'refused') => void = () => {},
  ) {}

  current(): ServedModel | null {
    return this.served;
  }

  error(): string | null {
    return this.lastError;
  }

  start(): void {
    // The registry says when another process (CLI, runner, another replica) commits: only then look.
    const changed = () => {
      this.bus.publish({ type: 'registry', at: new Date().toISOString() });
      void this.refresh();
    };
    this.unwatch = this.registry.watch(changed, this.opts.pollMs);
    // What was committed between the first refresh and the watch.
    changed();
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    await this.refreshing;
    this.served?.retire();
    this.served = null;
  }

  /** Brings the served version in line with the registry (serialised: one at a time). */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    let target: ModelVersion | null;
    try {
      target = await this.target();
    } catch (err) {
      return this.fail(err);
    }
    const current = this.served;
    if (!target) {
      if (this.opts.optional && (current || this.lastError)) {
        this.served = null;
        this.lastError = null;
        current?.retire();
        this.publish();
      }
      return;
    }
    if (current && current.version.version === target.version && current.version.model === target.model) {
      const selector = this.selectorFor(target);
      if (current.info.aliases.join() !== target.aliases.join() || current.info.selector !== selector) {
        current.info.aliases = target.aliases;
        current.info.selector = selector;
        this.publish();
      }
      return;
    }
    try {
      const next = await this.load(target, current?.version ?? null);
      this.served = next;
      this.lastError = null;
      current?.retire();
      this.onSwap('ok');
      this.publish();
    } catch (err) {
      this.onSwap('refused');
      this.fail(err);
    }
  }

  /** The version the configuration points at now, or null while there is nothing to serve. */
  private async target(): Promise<ModelVersion | null> {
    const name = this.opts.model ?? (await this.onlyModel());
    if (!name) return null;
    const selector = this.opts.selector;
    if (this.opts.optional && typeof selector === 'string') {
      return (await this.registry.models.versions(name)).find((v) => v.aliases.includes(selector)) ?? null;
    }
    return this.registry.models.resolve({ name, selector });
  }

  /** What the served version is reached by: the configured alias or version, else production or latest. */
  private selectorFor(v: ModelVersion): string | number {
    return this.opts.selector ?? (v.aliases.includes('production') ? 'production' : 'latest');
  }

  private async onlyModel(): Promise<string | null> {
    const models = await this.registry.models.list();
    if (models.length === 0) {
      // An optional holder (the challenger) with nothing to serve is not in error (else every
      // refresh would announce a removal).
      if (!this.opts.optional) this.lastError = 'no model registered yet: train one (mlops train, or MLOps: Train in VS Code)';
      return null;
    }
    if (models.length === 1) return models[0].name;
    throw errors.severalModels(models.map((m) => m.name));
  }

  private async load(v: ModelVersion, previous: ModelVersion | null): Promise<ServedModel> {
    const what = `${v.model} version ${v.version}`;
    const bytes = await readModel(this.registry.artifacts, v, what);
    this.opts.accept?.(v);
    if (previous) {
      // Clients keep sending the same records across a swap: names and JSON types must stay.
      const was = previous.signature.features.map((f) => `${f.name}:${f.type}`).join(',');
      const now = v.signature.features.map((f) => `${f.name}:${f.type}`).join(',');
      if (was !== now) throw errors.featuresChanged(what, now, was);
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1 });
    } catch (err) {
      throw errors.onnxLoad(what, (err as Error).message.split('\n')[0]);
    }
    const s = v.signature;
    const missing = s.inputs
      .map((i) => i.name)
      .filter((n) => !session.inputNames.includes(n))
      .concat(outputNames(s).filter((n) => !session.outputNames.includes(n)));
    const served = new ServedModel(v, session, this.selectorFor(v), this.opts.serving);
    try {
      if (missing.length > 0) throw errors.signatureMismatch(what, missing);
      // The first run allocates: do it before real traffic.
      await served.predict(batchFromRecords(sampleRecords(s, 1), s, 1), true);
    } catch (err) {
      served.retire();
      throw err;
    }
    return served;
  }

  private fail(err: unknown): void {
    this.lastError = isMlopsError(err) || err instanceof Error ? err.message : String(err);
    this.publish();
  }

  private publish(): void {
    if (this.opts.announce) this.opts.announce(this);
    else this.bus.publish({ type: 'serving', serving: this.served?.info ?? null, error: this.lastError });
  }
}

/**
 * A version's bytes from the artifact store, checked against its sha256 there (a torn, stale or
 * replaced file is refused: MODEL_REFUSED, and the old version keeps serving).
 */
async function readModel(artifacts: ArtifactStore, v: ModelVersion, what: string): Promise<Buffer> {
  try {
    return await artifacts.read(modelKey(v.model, v.version), v.sha256);
  } catch (err) {
    // MODEL_REFUSED (the file is not what was registered): said of the version, not only of its key.
    if (isMlopsError(err)) throw new MlopsError(err.code, `${what}: ${err.message}`, err.status);
    throw errors.modelUnreadable(what, v.path, (err as NodeJS.ErrnoException).code);
  }
}
