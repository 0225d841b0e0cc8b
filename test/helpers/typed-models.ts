// Real ONNX models of the typed signatures, built with the project's own writer (ai.onnx.ml operators)
// and registered through the registry like any version: (a) a regression over float columns and a
// string category, (b) a classifier over per-column float, int64, bool and string inputs with string
// labels. What they compute is simple enough to check answers by hand (see the formulas below).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelSignature, ModelVersion, NumericDistribution, TrainingReference } from '../../common/contract';
import { openRegistry } from '../../common/registry';
import { buildModel, floatsAttr, intAttr, intsAttr, ML_DOMAIN, stringAttr, stringsAttr, type OnnxNode } from '../../pipeline/ml/onnx-model';
import { binShares } from '../../pipeline/ml/reference';

const DECILES = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => d / 10);

/** The training distribution of numbers, as the pipeline's reference stores it (10 equal-width bins). */
export function numericDistribution(values: number[]): NumericDistribution {
  const sorted = [...values].sort((a, b) => a - b);
  const count = sorted.length;
  const min = sorted[0];
  const max = sorted[count - 1];
  const mean = sorted.reduce((a, b) => a + b, 0) / count;
  const at = (q: number) => {
    const p = (count - 1) * q;
    const lo = Math.floor(p);
    return sorted[lo] + (p - lo) * (sorted[Math.min(lo + 1, count - 1)] - sorted[lo]);
  };
  const binEdges = Array.from({ length: 11 }, (_, i) => (i === 10 ? max : min + ((max - min) * i) / 10));
  const std = Math.sqrt(sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / count);
  return { count, mean, std, min, max, quantiles: DECILES.map(at), binEdges, binShares: binShares(sorted, binEdges) };
}

const node = (opType: string, domain: string, inputs: string[], outputs: string[], attributes: OnnxNode['attributes'] = []): OnnxNode => ({
  opType,
  domain,
  inputs,
  outputs,
  attributes,
});

/** A string column [N, 1] one-hot encoded as float [N, categories] (an unseen category: all zeros). */
function oneHot(input: string, categories: string[]): OnnxNode[] {
  return [
    node('OneHotEncoder', ML_DOMAIN, [input], [`${input}_onehot3`], [stringsAttr('cats_strings', categories), intAttr('zeros', 1)]),
    node('Flatten', '', [`${input}_onehot3`], [`${input}_onehot`], [intAttr('axis', 1)]),
  ];
}

export const CITIES = ['lyon', 'paris'];
/** price = 2·area − age + 50·[lyon] + 100·[paris] + 10 (any other city: no bonus). */
export function housePrice(r: { area: number; age: number; city: string }): number {
  return 2 * r.area - r.age + (r.city === 'lyon' ? 50 : r.city === 'paris' ? 100 : 0) + 10;
}

/** Training rows of the regression model: its reference is computed from them. */
export const HOUSES = Array.from({ length: 40 }, (_, i) => ({ area: 20 + i * 3, age: i % 10, city: CITIES[i % 2] }));

export function regressionModel(): { onnx: Uint8Array; signature: ModelSignature; reference: TrainingReference } {
  const onnx = buildModel({
    name: 'houses',
    inputs: [
      { name: 'numbers', type: 'float32', dims: [2] },
      { name: 'city', type: 'string', dims: [1] },
    ],
    outputs: [{ name: 'variable', type: 'float32', dims: [1] }],
    nodes: [
      ...oneHot('city', CITIES),
      node('Concat', '', ['numbers', 'city_onehot'], ['features'], [intAttr('axis', 1)]),
      node(
        'LinearRegressor',
        ML_DOMAIN,
        ['features'],
        ['variable'],
        [floatsAttr('coefficients', [2, -1, 50, 100]), floatsAttr('intercepts', [10])],
      ),
    ],
  });
  const area = HOUSES.map((h) => h.area);
  const age = HOUSES.map((h) => h.age);
  const signature: ModelSignature = {
    schema: 2,
    inputs: [
      { name: 'numbers', type: 'float32', width: 2, rank: 2 },
      { name: 'city', type: 'string', width: 1, rank: 2 },
    ],
    features: [
      { name: 'area', type: 'float32', input: 'numbers', column: 0, min: Math.min(...area), max: Math.max(...area) },
      { name: 'age', type: 'float32', input: 'numbers', column: 1, min: Math.min(...age), max: Math.max(...age), nullable: true },
      { name: 'city', type: 'string', input: 'city', column: 0, categories: CITIES },
    ],
    task: 'regression',
    targets: ['price'],
    valueOutput: 'variable',
  };
  const reference: TrainingReference = {
    rows: HOUSES.length,
    features: [
      { name: 'area', kind: 'numeric', ...numericDistribution(area) },
      { name: 'age', kind: 'numeric', ...numericDistribution(age) },
      { name: 'city', kind: 'categorical', count: HOUSES.length, categories: CITIES, shares: [0.5, 0.5] },
    ],
    targets: [numericDistribution(HOUSES.map(housePrice))],
  };
  return { onnx, signature, reference };
}

export const COLORS = ['red', 'blue'];
export const GRADES = ['cheap', 'dear'];
/**
 * The mixed classifier's score for "dear" minus "cheap": length + 2·rooms + 3·garden + 4·[blue] − 10;
 * it answers "dear" when positive.
 */
export function grade(r: { length: number; rooms: number; garden: boolean; color: string }): string {
  return r.length + 2 * r.rooms + (r.garden ? 3 : 0) + (r.color === 'blue' ? 4 : 0) - 10 > 0 ? 'dear' : 'cheap';
}

export function mixedClassifier(): { onnx: Uint8Array; signature: ModelSignature; reference: TrainingReference } {
  const onnx = buildModel({
    name: 'mixed',
    inputs: [
      { name: 'length', type: 'float32', dims: [1] },
      { name: 'rooms', type: 'int64', dims: [1] },
      { name: 'garden', type: 'bool', dims: [1] },
      { name: 'color', type: 'string', dims: [1] },
    ],
    outputs: [
      { name: 'label', type: 'string', dims: [] },
      { name: 'probabilities', type: 'float32', dims: [2] },
    ],
    nodes: [
      node('Cast', '', ['rooms'], ['rooms_f'], [intAttr('to', 1)]),
      node('Cast', '', ['garden'], ['garden_f'], [intAttr('to', 1)]),
      ...oneHot('color', COLORS),
      node('Concat', '', ['length', 'rooms_f', 'garden_f', 'color_onehot'], ['features'], [intAttr('axis', 1)]),
      // Class 0 (cheap) scores 0; class 1 (dear) the formula of grade().
      node(
        'LinearClassifier',
        ML_DOMAIN,
        ['features'],
        ['label', 'probabilities'],
        [
          floatsAttr('coefficients', [0, 0, 0, 0, 0, 1, 2, 3, 0, 4]),
          floatsAttr('intercepts', [0, -10]),
          stringsAttr('classlabels_strings', GRADES),
          stringAttr('post_transform', 'SOFTMAX'),
        ],
      ),
    ],
  });
  const column = (name: string, type: 'float32' | 'int64' | 'bool' | 'string') => ({ name, type, width: 1, rank: 2 as const });
  const signature: ModelSignature = {
    schema: 2,
    inputs: [column('length', 'float32'), column('rooms', 'int64'), column('garden', 'bool'), column('color', 'string')],
    features: [
      { name: 'length', type: 'float32', input: 'length', column: 0, min: 0, max: 10 },
      { name: 'rooms', type: 'int64', input: 'rooms', column: 0, min: 1, max: 5 },
      { name: 'garden', type: 'bool', input: 'garden', column: 0, categories: ['false', 'true'] },
      { name: 'color', type: 'string', input: 'color', column: 0, categories: COLORS, strict: true },
    ],
    task: 'classification',
    target: 'grade',
    labelOutput: 'label',
    labelKind: 'string',
    probabilitiesOutput: 'probabilities',
    classLabels: GRADES,
  };
  const lengths = Array.from({ length: 11 }, (_, i) => i);
  const reference: TrainingReference = {
    rows: 11,
    features: [
      { name: 'length', kind: 'numeric', ...numericDistribution(lengths) },
      { name: 'rooms', kind: 'numeric', ...numericDistribution(lengths.map((l) => 1 + (l % 5))) },
      { name: 'garden', kind: 'categorical', count: 11, categories: ['false', 'true'], shares: [0.5, 0.5] },
      { name: 'color', kind: 'categorical', count: 11, categories: COLORS, shares: [0.5, 0.5] },
    ],
    classShares: [0.5, 0.5],
  };
  return { onnx, signature, reference };
}

/** Registers a built model as a new version of `name` in the registry of dataDir. */
export async function registerTyped(
  dataDir: string,
  name: string,
  model: { onnx: Uint8Array; signature: ModelSignature; reference: TrainingReference },
): Promise<ModelVersion> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'typed-model-'));
  const registry = await openRegistry({ dataDir });
  try {
    const onnxFile = path.join(tmp, 'model.onnx');
    fs.writeFileSync(onnxFile, model.onnx);
    return await registry.models.register({
      model: name,
      signature: model.signature,
      metrics: {},
      params: { built: 'test/helpers/typed-models.ts' },
      lineage: { runId: null, pipeline: null, git: { commit: null, branch: null, dirty: null }, dataFiles: [] },
      reference: model.reference,
      onnxFile,
    });
  } finally {
    await registry.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** A classifier whose classes are int64 values (3 and 7, as scikit-learn exports integer targets): 7 when x > 5. */
export function intLabelClassifier(): { onnx: Uint8Array; signature: ModelSignature; reference: TrainingReference } {
  const onnx = buildModel({
    name: 'digits',
    inputs: [{ name: 'x', type: 'float32', dims: [1] }],
    outputs: [
      { name: 'label', type: 'int64', dims: [] },
      { name: 'probabilities', type: 'float32', dims: [2] },
    ],
    nodes: [
      node(
        'LinearClassifier',
        ML_DOMAIN,
        ['x'],
        ['label', 'probabilities'],
        [
          floatsAttr('coefficients', [0, 1]),
          floatsAttr('intercepts', [0, -5]),
          intsAttr('classlabels_ints', [3, 7]),
          stringAttr('post_transform', 'SOFTMAX'),
        ],
      ),
    ],
  });
  const signature: ModelSignature = {
    schema: 2,
    inputs: [{ name: 'x', type: 'float32', width: 1, rank: 2 }],
    features: [{ name: 'x', type: 'float32', input: 'x', column: 0, min: 0, max: 10 }],
    task: 'classification',
    target: 'digit',
    labelOutput: 'label',
    labelKind: 'int64',
    probabilitiesOutput: 'probabilities',
    classLabels: ['3', '7'],
  };
  const xs = Array.from({ length: 11 }, (_, i) => i);
  const reference: TrainingReference = {
    rows: 11,
    features: [{ name: 'x', kind: 'numeric', ...numericDistribution(xs) }],
    classShares: [6 / 11, 5 / 11],
  };
  return { onnx, signature, reference };
}
