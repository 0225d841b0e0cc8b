import type { FeatureSpec, ModelSignature } from '../../common/contract';

type SampleValue = number | string | boolean;

/** Feature k of n of a sample: a category in turn, else (k + 1) / (n + 1) of the training range. */
function sampleValue(f: FeatureSpec, k: number, n: number): SampleValue {
  if (f.type === 'bool') return false;
  if (f.categories && f.categories.length > 0) {
    const c = f.categories[k % f.categories.length];
    return f.type === 'string' ? c : Number(c);
  }
  if (f.type === 'string') return '';
  const min = f.min ?? 0;
  const max = f.max ?? min;
  const at = min + (max - min) * ((k + 1) / (n + 1));
  return f.type === 'int64' || f.type === 'int32' ? Math.round(at) : Number(at.toPrecision(3));
}

/**
 * Example records for a model, built from its signature alone (no model-specific data), typed as
 * the signature says: a training category for categorical features (string or integer), a point of
 * the training range for numbers (rounded for integers: record k of n takes (k + 1) / (n + 1) of it,
 * to 3 significant digits; n = 1 gives the midpoint), false for booleans. Used for the /docs example,
 * GET /api/models/{name}/sample (the extension's test prediction, `mlops loadtest`) and the warm-up
 * run of a freshly loaded version.
 */
export function sampleRecords(signature: ModelSignature, n = 2): Record<string, SampleValue>[] {
  return Array.from({ length: n }, (_, k) => Object.fromEntries(signature.features.map((f) => [f.name, sampleValue(f, k, n)])));
}
