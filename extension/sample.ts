import type { ModelSignature, TrainingReference } from '../common/contract';

const round = (x: number) => Math.round(x * 100) / 100;

/**
 * Two records for a test prediction, built from the served model's signature: one at the training
 * mean of every feature, one at the training median. Without a training reference, the middle and
 * the first quarter of the range seen in training. Values stay inside that range, so a check of
 * the input never refuses them and drift barely moves.
 */
export function sampleRecords(signature: ModelSignature, reference?: TrainingReference | null): Record<string, number>[] {
  const byName = new Map((reference?.features ?? []).map((f) => [f.name, f]));
  const at = (pick: 'mean' | 'median') =>
    Object.fromEntries(
      signature.features.map((f) => {
        const ref = byName.get(f.name);
        const fromRange = f.min + (f.max - f.min) * (pick === 'mean' ? 0.5 : 0.25);
        const value = ref ? (pick === 'mean' ? ref.mean : (ref.quantiles[4] ?? ref.mean)) : fromRange;
        return [f.name, round(Math.min(f.max, Math.max(f.min, value)))];
      }),
    );
  return [at('mean'), at('median')];
}
