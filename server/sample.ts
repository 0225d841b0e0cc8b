import type { ModelSignature } from '../common/contract';

/**
 * Example records for a model, built from its signature alone (no model-specific data): record k of n
 * takes each feature at (k + 1) / (n + 1) of the range seen in training, to 3 significant digits. Used
 * for the /docs example, GET /api/models/{name}/sample (the extension's test prediction, `mlops
 * loadtest`) and the warm-up run of a freshly loaded version.
 */
export function sampleRecords(signature: ModelSignature, n = 2): Record<string, number>[] {
  return Array.from({ length: n }, (_, k) => {
    const at = (k + 1) / (n + 1);
    return Object.fromEntries(signature.features.map((f) => [f.name, Number((f.min + (f.max - f.min) * at).toPrecision(3))]));
  });
}
