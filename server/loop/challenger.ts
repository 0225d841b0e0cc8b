import type { ChallengerInfo, ChallengerMode, LiveQuality, ModelSignature, ModelVersion } from '../../common/contract';
import { errors } from '../../common/errors';
import type { Prediction } from '../../common/inference';
import type { Registry } from '../../common/registry';
import type { InputBatch } from '../../common/tensor-layout';
import type { ChallengerSettings } from './challenger-config';
import { ChallengerMetrics } from './challenger-metrics';
import type { EventBus } from '../event-bus';
import { ModelHolder, type ServedModel, type ServingOptions } from '../serving/model-holder';
import type { ServerMetrics } from '../monitoring/server-metrics';

/** A request may pick the side that answers it (both modes): `champion` or `challenger`. */
export const CHALLENGER_SIDE_HEADER = 'x-mlops-side';
/** Shadow runs at once; beyond that a request is not shadowed (counted as skipped): a slow challenger cannot pile up work. */
const MAX_SHADOW_INFLIGHT = 32;
/** Regression values agree when within this share of the champion's value (or of 1, near zero). */
const VALUE_TOLERANCE = 0.01;
const LATENCY_SAMPLES = 2048;

/** Live quality per version (server/monitoring/live-quality.ts, from ground-truth feedback); null when unknown. */
export type QualityOf = (model: string, version: number) => LiveQuality | null;

/**
 * The challenger: the version under the challenger alias of the served model, loaded, verified and
 * warmed by a ModelHolder of its own (following alias moves like the champion's). In shadow mode it
 * runs after the champion's answer is sent; in canary mode it answers a sticky share of requests.
 */
export class Challenger {
  readonly holder: ModelHolder;
  readonly metrics: ChallengerMetrics;
  private mode: ChallengerMode;
  private share: number;
  private stopped: ChallengerInfo['stopped'] = null;
  private stats = new Figures();
  private shadowInflight = 0;
  private changed = false;
  /** The loaded version the figures are of. */
  private figuresOf: ServedModel | null = null;
  private readonly warn: (line: string) => void;
  qualityOf: QualityOf = () => null;
  /** Logs a shadow prediction (Predictor.record with shadow: true), so that feedback labels the challenger too. */
  recordShadow: (c: ServedModel, batch: InputBatch, p: Prediction, requestId: string, ms: number) => void = () => {};

  constructor(
    registry: Registry,
    private readonly settings: ChallengerSettings,
    serving: ServingOptions,
    private readonly bus: EventBus,
    private readonly champion: ModelHolder,
    opts: { model: string | null; pollMs: number; metrics: ServerMetrics; warn: (line: string) => void },
  ) {
    this.mode = settings.mode;
    this.share = settings.share;
    this.warn = opts.warn;
    this.metrics = new ChallengerMetrics(
      opts.metrics.registry,
      () => this.current(),
      () => this.stats,
    );
    this.holder = new ModelHolder(
      registry,
      {
        model: opts.model,
        selector: settings.alias,
        pollMs: opts.pollMs,
        serving,
        optional: true,
        accept: (v) => this.accept(v),
        announce: () => this.changedVersion(),
      },
      bus,
    );
  }

  /** The loaded challenger, or null (none, or the same version as the champion: nothing to compare). */
  current(): ServedModel | null {
    const c = this.holder.current();
    const champion = this.champion.current();
    if (!c || (champion && champion.info.model === c.info.model && champion.info.version === c.info.version)) return null;
    return c;
  }

  get alias(): string {
    return this.settings.alias;
  }

  refresh(): Promise<void> {
    return this.holder.refresh();
  }

  stop(): Promise<void> {
    return this.holder.stop();
  }

  /**
   * The challenger when it answers this request: a canary request whose id hashes into the share,
   * or one that asks for it by header; null for the champion.
   */
  answerer(requestId: string, side: string | string[] | undefined): ServedModel | null {
    const c = this.current();
    if (!c) return null;
    if (side === 'challenger') return c;
    if (side === 'champion' || this.mode !== 'canary') return null;
    return hashShare(requestId) < this.share ? c : null;
  }

  /** A canary answer (ok), or a canary failure the champion answered instead. */
  answered(ok: boolean, seconds: number): void {
    this.stats.canary(ok);
    this.changed = true;
    if (ok) this.stats.latency(seconds * 1000);
    this.metrics.canary(ok, seconds);
    if (!ok) this.metrics.errors.inc({ mode: 'canary' });
    this.checkCanary();
  }

  /**
   * Runs the challenger on the champion's batch once the champion's answer is on its way
   * (setImmediate: after the reply is written), when this request is in the shadow share.
   */
  shadow(batch: InputBatch, championPrediction: Prediction, champion: ServedModel, requestId: string): void {
    const c = this.current();
    if (!c || this.mode !== 'shadow' || c === champion) return;
    if (this.share < 1 && hashShare(requestId) >= this.share) return;
    if (this.shadowInflight >= MAX_SHADOW_INFLIGHT) {
      this.metrics.skipped.inc();
      return;
    }
    this.shadowInflight++;
    setImmediate(() => {
      // Swapped or removed meanwhile: its session may be released already, and its figures were reset.
      if (this.holder.current() !== c) {
        this.shadowInflight--;
        return;
      }
      const t0 = performance.now();
      c.predict(batch, true)
        .then((p) => {
          const ms = performance.now() - t0;
          this.recordShadow(c, batch, p, requestId, ms);
          this.stats.latency(ms);
          this.metrics.latency.observe(ms / 1000);
          const agreed = agreeing(champion.version.signature, championPrediction, c.version.signature, p);
          this.stats.compared(agreed, batch.n);
          this.metrics.compared(batch.n);
        })
        .catch(() => {
          this.stats.error();
          this.metrics.errors.inc({ mode: 'shadow' });
        })
        .finally(() => {
          this.shadowInflight--;
          this.changed = true;
        });
    });
  }

  /** PUT /api/challenger: a mode and/or a share; clears a stop. Throws a 400 for a bad value. */
  set(change: { mode?: unknown; share?: unknown }): ChallengerInfo | null {
    const { mode, share } = checkSettings(change);
    if (mode !== undefined) this.mode = mode;
    if (share !== undefined) this.share = share;
    this.stopped = null;
    this.stats.resetCanary();
    this.publish(`set ${this.mode} ${this.share}`);
    return this.info();
  }

  info(): ChallengerInfo | null {
    const c = this.current();
    if (!c) return null;
    const s = this.stats;
    return {
      alias: this.settings.alias,
      mode: this.mode,
      share: this.share,
      serving: c.info,
      stopped: this.stopped,
      agreement: s.comparedRows ? s.agreedRows / s.comparedRows : null,
      comparedRows: s.comparedRows,
      latencyMs: s.percentiles(),
      errors: s.errors,
      quality: this.qualityOf(c.info.model, c.info.version),
    };
  }

  /** Called every second: a 'challenger' event when its figures moved (the webview's live view). */
  tick(): void {
    this.checkCanary(); // labels arrive without traffic: live quality can fall between requests
    if (!this.changed) return;
    this.changed = false;
    this.publish('stats');
  }

  private accept(v: ModelVersion): void {
    const champion = this.champion.current();
    if (champion && layoutOf(champion.version.signature) !== layoutOf(v.signature)) {
      throw errors.challengerLayout(`${v.model} version ${v.version}`, `${champion.info.model} version ${champion.info.version}`);
    }
  }

  /** The holder's news: another version (new figures), none, a refusal, or only its aliases moved. */
  private changedVersion(): void {
    const c = this.holder.current();
    const error = this.holder.error();
    if (c !== this.figuresOf) {
      this.figuresOf = c;
      this.stats = new Figures();
      this.stopped = null;
    }
    if (error) this.warn(`challenger refused: ${error}`);
    this.publish(error ? `refused: ${error}` : c ? 'loaded' : 'removed');
  }

  private checkCanary(): void {
    if (this.mode !== 'canary') return;
    // Runs on every canary answer: only the figures it compares, not info() (which sorts the latency samples).
    const c = this.current();
    const mine = c ? this.qualityOf(c.info.model, c.info.version) : null;
    const reason = canaryProblem(this.stats, this.settings.canary, mine, this.championQuality());
    if (!reason) return;
    this.mode = 'shadow';
    this.stopped = { at: new Date().toISOString(), reason };
    this.metrics.stops.inc();
    this.warn(`canary stopped, back to shadow: ${reason}`);
    this.publish(`canary stopped: ${reason}`);
  }

  private championQuality(): LiveQuality | null {
    const m = this.champion.current();
    return m ? this.qualityOf(m.info.model, m.info.version) : null;
  }

  private publish(reason: string): void {
    this.bus.publish({ type: 'challenger', challenger: this.info(), reason });
  }
}

/** Running figures of the current challenger (reset when another version is loaded). */
export class Figures {
  comparedRows = 0;
  agreedRows = 0;
  errors = 0;
  canaryRequests = 0;
  canaryErrors = 0;
  private readonly samples = new Float64Array(LATENCY_SAMPLES);
  private count = 0;
  private seen = 0;

  compared(agreed: number, rows: number): void {
    this.comparedRows += rows;
    this.agreedRows += agreed;
  }

  error(): void {
    this.errors++;
  }

  canary(ok: boolean): void {
    this.canaryRequests++;
    if (!ok) {
      this.canaryErrors++;
      this.errors++;
    }
  }

  resetCanary(): void {
    this.canaryRequests = this.canaryErrors = 0;
  }

  latency(ms: number): void {
    // A reservoir: percentiles over the whole life of this challenger in bounded memory.
    this.seen++;
    if (this.count < LATENCY_SAMPLES) this.samples[this.count++] = ms;
    else {
      const j = Math.floor(Math.random() * this.seen);
      if (j < LATENCY_SAMPLES) this.samples[j] = ms;
    }
  }

  percentiles(): { p50: number; p95: number } | null {
    if (this.count === 0) return null;
    const sorted = this.samples.slice(0, this.count).sort();
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    return { p50: q(0.5), p95: q(0.95) };
  }
}

/**
 * Why a canary must stop, or null: its error rate over at least minRequests canary answers above
 * maxErrorRate, or its live quality (over at least minLabelled labels) more than maxQualityDrop
 * below the champion's (accuracy; for regression, MAE relative to the champion's).
 */
export function canaryProblem(
  figures: Pick<Figures, 'canaryRequests' | 'canaryErrors'>,
  limits: ChallengerSettings['canary'],
  mine: LiveQuality | null,
  champion: LiveQuality | null,
): string | null {
  if (figures.canaryRequests >= limits.minRequests) {
    const rate = figures.canaryErrors / figures.canaryRequests;
    if (rate > limits.maxErrorRate) {
      return `error rate ${rate.toFixed(3)} > ${limits.maxErrorRate} over ${figures.canaryRequests} canary requests`;
    }
  }
  if (!mine || !champion || mine.labelled < limits.minLabelled || champion.labelled < limits.minLabelled) return null;
  if (mine.classification && champion.classification) {
    const drop = champion.classification.accuracy - mine.classification.accuracy;
    if (drop > limits.maxQualityDrop) {
      const [a, b] = [mine.classification.accuracy, champion.classification.accuracy].map((x) => x.toFixed(3));
      return `live accuracy ${a} is ${drop.toFixed(3)} below the champion's ${b} (more than ${limits.maxQualityDrop})`;
    }
  }
  if (mine.regression && champion.regression && champion.regression.mae > 0) {
    const worse = mine.regression.mae / champion.regression.mae - 1;
    if (worse > limits.maxQualityDrop) {
      const [a, b] = [mine.regression.mae, champion.regression.mae].map((x) => x.toPrecision(4));
      return `live MAE ${a} is ${(worse * 100).toFixed(1)}% above the champion's ${b} (more than ${limits.maxQualityDrop * 100}%)`;
    }
  }
  return null;
}

/** Rows where both versions predict the same class, or regression values within VALUE_TOLERANCE. */
export function agreeing(sa: ModelSignature, a: Prediction, sb: ModelSignature, b: Prediction): number {
  let agreed = 0;
  if (a.task === 'classification' && b.task === 'classification' && sa.task === 'classification' && sb.task === 'classification') {
    for (let i = 0; i < a.classes.length; i++) if (sa.classLabels[a.classes[i]] === sb.classLabels[b.classes[i]]) agreed++;
    return agreed;
  }
  if (a.task === 'regression' && b.task === 'regression' && sa.task === 'regression') {
    const t = sa.targets.length;
    for (let i = 0; i < a.values.length / t; i++) {
      let same = true;
      for (let k = 0; k < t; k++) {
        const x = a.values[i * t + k];
        const y = b.values[i * t + k];
        if (!(Math.abs(x - y) <= VALUE_TOLERANCE * Math.max(1, Math.abs(x)))) same = false;
      }
      if (same) agreed++;
    }
  }
  return agreed;
}

/** A sticky share: the same request id always lands on the same side (FNV-1a with murmur3's finaliser, as a fraction). */
export function hashShare(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // FNV's last multiply leaves the high bits close for ids that differ in their last character
  // (req-1, req-2 …): murmur3's finaliser spreads them.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/** What a request validated for the champion must fit: the ONNX inputs and where each feature goes. */
function layoutOf(s: ModelSignature): string {
  return JSON.stringify([s.inputs, s.features.map((f) => [f.name, f.type, f.input, f.column])]);
}

function checkSettings(change: { mode?: unknown; share?: unknown }): { mode?: ChallengerMode; share?: number } {
  const { mode, share } = change;
  if (mode !== undefined && mode !== 'shadow' && mode !== 'canary') throw errors.badChallengerSetting('mode', '"shadow" or "canary"', mode);
  if (share !== undefined && (typeof share !== 'number' || !(share >= 0 && share <= 1)))
    throw errors.badChallengerSetting('share', 'a number from 0 to 1', share);
  return { mode, share: share as number | undefined };
}
