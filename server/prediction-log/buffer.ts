// The prediction log's hand-over buffer: what record() fills on the main thread between two
// hand-overs to the writer thread, in the columnar form of protocol.ts. Numbers are
// copied into typed arrays (transferred, not cloned, by postMessage); strings are interned so that a
// hand-over clones each distinct label, feature list and model name once, not once per row.
// The layout constants in the order of the record they describe (add() fills the slots in that order).
import {
  META,
  M_AT,
  M_VERSION,
  M_LATENCY,
  M_ROWS,
  M_FEATURES,
  M_CLASSES,
  M_FLAGS,
  M_MODEL,
  M_TARGETS,
  M_SHADOW,
  F_ROWS_F32,
  F_PROBS_F32,
  type FeatureSet,
  type ReturnedBuffers,
  type WriteMessage,
} from './protocol';

export interface PredictionBatch {
  at: number;
  requestId: string;
  model: string;
  version: number;
  features: string[];
  /** One LogKind per feature ('f' float32, 'd' number, 'b' boolean 0/1, 's' string); all numbers when absent. */
  kinds?: string;
  /** Row-major N × features.length. */
  rows: ArrayLike<number>;
  /** Row-major N × features.length, read where kinds has 's'. */
  strings?: string[] | null;
  /** Rows; defaults to labels.length. */
  n?: number;
  /** Classification: the label per row; null for regression. */
  labels: string[] | null;
  /** Row-major N × nClasses, or null. */
  probabilities: ArrayLike<number> | null;
  nClasses: number;
  /** Regression: row-major N × nTargets predicted values; null for classification. */
  values?: ArrayLike<number> | null;
  nTargets?: number;
  latencyMs: number;
  /** A challenger's shadow prediction (not the answer sent): stored with shadow = 1. */
  shadow?: boolean;
}

/** Returned buffers larger than this are let go rather than refilled (a backlog's memory is given back). */
export const MAX_SPARE_BYTES = 16 << 20;
/** A row's label is looked up among this many of the hand-over's first labels before the map. */
const LABEL_SCAN = 8;

/**
 * Strings numbered in order of first appearance. `sent` marks how many the writer thread has been
 * given: a hand-over carries only the ones after it.
 */
export class Interner<T> {
  readonly values: T[] = [];
  private readonly ids = new Map<string, number>();
  sent = 0;

  constructor(private readonly key: (value: T) => string) {}

  id(value: T): number {
    const key = this.key(value);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.ids.set(key, id);
    }
    return id;
  }

  /** Values the writer thread has not been given yet; they count as given from now on. */
  unsent(): T[] {
    const fresh = this.values.slice(this.sent);
    this.sent = this.values.length;
    return fresh;
  }

  clear(): void {
    this.values.length = 0;
    this.ids.clear();
    this.sent = 0;
  }
}

const asString = (s: unknown): string => (typeof s === 'string' ? s : String(s ?? ''));

export class HandOverBuffer {
  private meta = new Float64Array(256 * META);
  private values = new Float64Array(4096);
  private labelIndex = new Int32Array(1024);
  private requestIds: string[] = [];
  /** Labels are interned per hand-over; feature lists and model names for the life of the log. */
  private readonly labels = new Interner<string>((s) => s);
  readonly featureSets = new Interner<FeatureSet>((set) => `${set.kinds}\u0001${set.names.join('\u0000')}`);
  readonly models = new Interner<string>((s) => s);
  private lastFeatures: string[] | null = null;
  private lastKinds: string | undefined = undefined;
  private lastFeaturesId = -1;
  private lastModel: string | null = null;
  private lastModelId = -1;
  private requests = 0;
  /** Rows recorded since the last hand-over. */
  rows = 0;
  private used = 0;

  /**
   * Copies the first `k` rows of a request in (the caller checked `k` against the queue bound);
   * O(rows), no string building. The caller may reuse its buffers afterwards.
   */
  add(batch: PredictionBatch, k: number): void {
    const f = batch.features.length;
    const probs = batch.probabilities;
    const c = probs ? batch.nClasses : -1;
    const regression = batch.values ?? null;
    const t = regression ? (batch.nTargets ?? 1) : -1;
    const o = this.requests * META;
    if (o + META > this.meta.length) this.meta = grow(this.meta, o + META);
    const m = this.meta;
    m[o + M_AT] = batch.at;
    m[o + M_VERSION] = batch.version;
    m[o + M_LATENCY] = batch.latencyMs;
    m[o + M_ROWS] = k;
    m[o + M_FEATURES] = this.featureSetId(batch.features, batch.kinds);
    m[o + M_CLASSES] = c;
    m[o + M_FLAGS] = (batch.rows instanceof Float32Array ? F_ROWS_F32 : 0) | (probs instanceof Float32Array ? F_PROBS_F32 : 0);
    m[o + M_MODEL] = this.modelId(batch.model);
    m[o + M_TARGETS] = t;
    m[o + M_SHADOW] = batch.shadow ? 1 : 0;
    // Strings are checked here: anything postMessage could not clone would lose the whole hand-over.
    this.requestIds.push(asString(batch.requestId));
    this.requests++;
    const inputsAt = this.used;
    this.copy(batch.rows, k * f);
    if (batch.strings && batch.kinds) this.internStrings(batch.strings, batch.kinds, inputsAt, k);
    if (probs) this.copy(probs, k * c);
    if (regression) this.copy(regression, k * t);
    if (this.rows + k > this.labelIndex.length) this.labelIndex = grow(this.labelIndex, this.rows + k);
    // A scan of the first few labels (usually all the classes) costs ~5 ns a row: cheaper than the map.
    const li = this.labelIndex;
    const known = this.labels.values;
    const labels = batch.labels;
    if (!labels) li.fill(-1, this.rows, this.rows + k);
    else
      for (let r = 0, at = this.rows; r < k; r++, at++) {
        const label = labels[r];
        const scan = known.length < LABEL_SCAN ? known.length : LABEL_SCAN;
        let id = -1;
        for (let i = 0; i < scan; i++) {
          if (known[i] === label) {
            id = i;
            break;
          }
        }
        li[at] = id >= 0 ? id : this.labels.id(asString(label));
      }
    this.rows += k;
  }

  /**
   * The hand-over's message (its typed arrays to be transferred) and a fresh start: refilled from
   * `spare` (buffers the worker sent back), else new ones of the size just needed, within reason.
   */
  take(seq: number, retain: boolean, spare: ReturnedBuffers | undefined): WriteMessage {
    const { meta, values, labelIndex, rows, requests, requestIds } = this;
    const message: WriteMessage = {
      type: 'write',
      seq,
      requests,
      rows,
      meta,
      values,
      labelIndex,
      labels: this.labels.values.slice(),
      requestIds,
      featureSets: this.featureSets.unsent(),
      models: this.models.unsent(),
      retain,
    };
    const cap = MAX_SPARE_BYTES / 8;
    this.meta = spare ? new Float64Array(spare.meta) : new Float64Array(Math.min(meta.length, cap));
    this.values = spare ? new Float64Array(spare.values) : new Float64Array(Math.min(values.length, cap));
    this.labelIndex = spare ? new Int32Array(spare.labelIndex) : new Int32Array(Math.min(labelIndex.length, cap));
    this.requestIds = [];
    this.labels.clear();
    this.requests = 0;
    this.rows = 0;
    this.used = 0;
    return message;
  }

  /** A new writer thread knows no feature list nor model name yet. */
  forgetSent(): void {
    this.featureSets.sent = 0;
    this.models.sent = 0;
  }

  /** `message` never reached the writer thread: the names it introduced are still to be sent. */
  unsend(message: WriteMessage): void {
    this.featureSets.sent -= message.featureSets.length;
    this.models.sent -= message.models.length;
  }

  /** String inputs go in as their index among the hand-over's interned strings (shared with the labels). */
  private internStrings(strings: string[], kinds: string, at: number, k: number): void {
    const f = kinds.length;
    for (let j = 0; j < f; j++) {
      if (kinds.charCodeAt(j) !== 115 /* s */) continue;
      for (let r = 0; r < k; r++) this.values[at + r * f + j] = this.labels.id(asString(strings[r * f + j]));
    }
  }

  /** Appends the first `length` values to the hand-over's numbers. */
  private copy(values: ArrayLike<number>, length: number): void {
    const at = this.used;
    if (at + length > this.values.length) this.values = grow(this.values, at + length);
    if (values.length === length) this.values.set(values, at);
    else for (let i = 0; i < length; i++) this.values[at + i] = values[i];
    this.used = at + length;
  }

  private featureSetId(features: string[], kinds: string | undefined): number {
    if (features === this.lastFeatures && kinds === this.lastKinds) return this.lastFeaturesId;
    const names = Array.from(features, (name) => String(name));
    this.lastFeaturesId = this.featureSets.id({ names, kinds: kinds ?? '' });
    this.lastFeatures = features;
    this.lastKinds = kinds;
    return this.lastFeaturesId;
  }

  private modelId(model: string): number {
    if (model === this.lastModel) return this.lastModelId;
    this.lastModelId = this.models.id(asString(model));
    this.lastModel = model;
    return this.lastModelId;
  }
}

function grow<T extends Float64Array | Int32Array>(array: T, needed: number): T {
  const grown = new (array.constructor as new (length: number) => T)(Math.max(array.length * 2, needed));
  grown.set(array);
  return grown;
}
