// What the drift charts draw, from the server's drift snapshot and the served version's training
// reference: pure data, no DOM, so that it is unit-tested (test/unit/drift-series.test.ts).
import type { DriftSnapshot, FeatureDrift, NumericDistribution, TargetDrift, TrainingReference } from '../../common/contract';

/** Shares side by side: training against the drift window, one pair of bars per bucket. */
export interface ShareBars {
  /** A stable key: the chart is rebuilt only when it changes (new buckets). */
  key: string;
  title: string;
  caption: string;
  buckets: string[];
  training: number[];
  window: number[];
}

type Categorical = Extract<FeatureDrift, { kind: 'categorical' }>;

export const UNSEEN = '(unseen)';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** A categorical feature: each training category's share, then the unseen bucket (0 in training). */
export function categoryBars(drift: Categorical, reference: TrainingReference | null): ShareBars {
  const ref = reference?.features.find((f) => f.name === drift.name);
  const trainingShare = new Map(ref?.kind === 'categorical' ? ref.categories.map((c, i) => [c, ref.shares[i]] as const) : []);
  return {
    key: `${drift.name}|${drift.categories.join('|')}`,
    title: `Category shares: ${drift.name}`,
    caption: `PSI ${drift.psi.toFixed(3)} · unseen ${pct(drift.unseenShare)}` + (ref ? '' : ' · no training reference'),
    buckets: [...drift.categories, UNSEEN],
    training: [...drift.categories.map((c) => trainingShare.get(c) ?? 0), 0],
    window: [...drift.categories.map((_, i) => drift.shares[i] ?? 0), drift.unseenShare],
  };
}

/** Short numbers for bin labels: 3 significant digits. */
const short = (x: number) => (Math.abs(x) >= 1000 ? Math.round(x).toString() : Number(x.toPrecision(3)).toString());

/**
 * A regression target: the window's predictions per training bin against the training target's
 * shares. Bins are named by their lower edge (ranges would not fit under ten bars).
 */
export function targetBars(drift: TargetDrift, reference: NumericDistribution | undefined): ShareBars {
  const edges = reference?.binEdges ?? [];
  const n = Math.min(drift.binShares.length, reference ? reference.binShares.length : drift.binShares.length);
  const label = (i: number) => (edges.length > i + 1 ? short(edges[i]) : `bin ${i + 1}`);
  const buckets = Array.from({ length: n }, (_, i) => label(i));
  const trainingMean = reference ? ` (training ${short(reference.mean)})` : '';
  return {
    key: `${drift.name}|${buckets.join('|')}`,
    title: `Predictions vs training target: ${drift.name} (bins from their lower edge)`,
    caption: `PSI ${drift.psi.toFixed(3)} · KS ${drift.ks.toFixed(3)} · mean ${short(drift.mean)}${trainingMean}`,
    buckets,
    training: reference ? reference.binShares.slice(0, n) : new Array<number>(n).fill(0),
    window: drift.binShares.slice(0, n),
  };
}

/** Every share chart of a snapshot: categorical features first, then regression targets. */
export function shareCharts(drift: DriftSnapshot | null, reference: TrainingReference | null): ShareBars[] {
  if (!drift) return [];
  const categorical = drift.features.filter((f): f is Categorical => f.kind === 'categorical').map((f) => categoryBars(f, reference));
  const targets = (drift.targets ?? []).map((t, i) => targetBars(t, reference?.targets?.[i]));
  return [...categorical, ...targets];
}

/** The features a statistic applies to: PSI for all, KS for numeric features only. */
export function driftBars(drift: DriftSnapshot | null, statistic: 'psi' | 'ks'): { names: string[]; values: number[] } {
  const features = (drift?.features ?? []).filter((f) => statistic === 'psi' || f.kind === 'numeric');
  return { names: features.map((f) => f.name), values: features.map((f) => (statistic === 'ks' && f.kind === 'numeric' ? f.ks : f.psi)) };
}

/** The status line under the title: the window, and the class or target drift in one figure each. */
export function driftLine(drift: DriftSnapshot | null): string {
  if (!drift) return '';
  const parts = [`drift window: ${drift.windowRows} of ${drift.windowSize} rows`];
  if (drift.classes) parts.push(`class JS distance ${drift.classes.jensenShannon.toFixed(3)}`);
  for (const t of drift.targets ?? []) parts.push(`${t.name} PSI ${t.psi.toFixed(3)}, KS ${t.ks.toFixed(3)}`);
  const unseen = drift.features.filter((f): f is Categorical => f.kind === 'categorical' && f.unseenShare > 0);
  if (unseen.length > 0) parts.push(`unseen categories: ${unseen.map((f) => `${f.name} ${pct(f.unseenShare)}`).join(', ')}`);
  return parts.join(' · ');
}
