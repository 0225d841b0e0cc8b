// The typed model signature at run time: its checks, its JSON and OIP types, the builder for this
// project's trainers, and the migration of signatures registered before types (format 1).
// The types themselves are in common/contract.ts. No imports beyond the contract: the extension
// and the webview may use these helpers too.
import type {
  ClassificationSignature,
  FeatureReference,
  FeatureSpec,
  InputSpec,
  ModelSignature,
  RegressionSignature,
  TensorType,
  TrainingReference,
} from './contract';

export const TENSOR_TYPES: readonly TensorType[] = ['float32', 'float64', 'int64', 'int32', 'bool', 'string'];

/** The JSON type a record must carry for a feature of this tensor type. */
export function jsonTypeOf(type: TensorType): 'number' | 'integer' | 'boolean' | 'string' {
  switch (type) {
    case 'float32':
    case 'float64':
      return 'number';
    case 'int64':
    case 'int32':
      return 'integer';
    case 'bool':
      return 'boolean';
    case 'string':
      return 'string';
  }
}

/** Open Inference Protocol datatype of a tensor type. */
export function oipDatatype(type: TensorType): 'FP32' | 'FP64' | 'INT64' | 'INT32' | 'BOOL' | 'BYTES' {
  const map = { float32: 'FP32', float64: 'FP64', int64: 'INT64', int32: 'INT32', bool: 'BOOL', string: 'BYTES' } as const;
  return map[type];
}

/** A feature is categorical when it lists its training categories (string features always do). */
export function isCategorical(feature: FeatureSpec): boolean {
  return feature.categories !== undefined;
}

/** The ONNX outputs a prediction reads, in the order the server asks for them. */
export function outputNames(signature: ModelSignature): string[] {
  if (signature.task === 'regression') return [signature.valueOutput];
  return signature.probabilitiesOutput ? [signature.labelOutput, signature.probabilitiesOutput] : [signature.labelOutput];
}

/** The names of what a prediction answers: the class target, or each regression target. */
export function targetNames(signature: ModelSignature): string[] {
  return signature.task === 'regression' ? signature.targets : [signature.target];
}

/**
 * Every inconsistency of a signature, as one-line messages (empty when it is sound): features
 * that point at no input, columns out of range or used twice, types that differ from their
 * input's, a classifier without labels, duplicate names.
 */
export function signatureProblems(signature: ModelSignature): string[] {
  const problems: string[] = [];
  const inputs = new Map<string, InputSpec>();
  for (const input of signature.inputs) {
    if (inputs.has(input.name)) problems.push(`input "${input.name}" is listed twice`);
    if (!TENSOR_TYPES.includes(input.type)) problems.push(`input "${input.name}" has unsupported type ${String(input.type)}`);
    if (!Number.isInteger(input.width) || input.width < 1) problems.push(`input "${input.name}" has width ${input.width}`);
    if (input.rank === 1 && input.width !== 1) problems.push(`input "${input.name}" is one column ([N]) but has width ${input.width}`);
    inputs.set(input.name, input);
  }
  const names = new Set<string>();
  const used = new Set<string>();
  for (const f of signature.features) {
    if (names.has(f.name)) problems.push(`feature "${f.name}" is listed twice`);
    names.add(f.name);
    const input = inputs.get(f.input);
    if (!input) {
      problems.push(`feature "${f.name}" feeds input "${f.input}", which the signature does not list`);
      continue;
    }
    if (f.type !== input.type) problems.push(`feature "${f.name}" is ${f.type} but input "${input.name}" is ${input.type}`);
    if (!Number.isInteger(f.column) || f.column < 0 || f.column >= input.width)
      problems.push(`feature "${f.name}" is column ${f.column} of input "${input.name}", which has ${input.width}`);
    const slot = `${f.input}[${f.column}]`;
    if (used.has(slot)) problems.push(`two features feed ${slot}`);
    used.add(slot);
    if (f.type === 'string' && f.categories === undefined) problems.push(`string feature "${f.name}" lists no categories`);
  }
  for (const input of signature.inputs) {
    for (let c = 0; c < input.width; c++) {
      if (!used.has(`${input.name}[${c}]`)) problems.push(`no feature feeds column ${c} of input "${input.name}"`);
    }
  }
  if (signature.task === 'classification') {
    if (signature.classLabels.length < 2) problems.push(`a classifier needs at least 2 class labels, got ${signature.classLabels.length}`);
    if (new Set(signature.classLabels).size !== signature.classLabels.length) problems.push('class labels are not distinct');
    if (signature.labelKind === 'int64' && !signature.classLabels.every((l) => /^-?\d+$/.test(l)))
      problems.push('int64 class labels must be whole numbers');
  } else if (signature.task === 'regression') {
    if (signature.targets.length < 1) problems.push('a regression model needs at least one target');
  } else {
    problems.push(`unknown task ${JSON.stringify((signature as { task?: unknown }).task)}`);
  }
  return problems;
}

/** The usual signature of this project's trainers: the features as one [N, F] input of one type. */
export function tabularInput(inputName: string, type: TensorType, features: Omit<FeatureSpec, 'type' | 'input' | 'column'>[]) {
  const inputs: InputSpec[] = [{ name: inputName, type, width: features.length, rank: 2 }];
  const specs: FeatureSpec[] = features.map((f, column) => ({ ...f, type, input: inputName, column }));
  return { schema: 2 as const, inputs, features: specs };
}

// ---------------------------------------------------------------------------------------
// Format 1 (before typed signatures): float32 features in one [N, F] input, a classifier whose
// label output is an index into classLabels. Read by the registry migration.

interface SignatureV1 {
  inputName: string;
  features: { name: string; type: 'float32'; min: number; max: number }[];
  target: string;
  labelOutput: string;
  probabilitiesOutput: string;
  classLabels: string[];
}

/** A stored signature in the current format, migrating format 1; anything else is returned as is. */
export function migrateSignature(stored: unknown): ModelSignature {
  const s = stored as Partial<SignatureV1> & { schema?: number };
  if (s.schema === 2 || typeof s.inputName !== 'string' || !Array.isArray(s.features)) return stored as ModelSignature;
  const v1 = s as SignatureV1;
  const signature: ClassificationSignature = {
    ...tabularInput(
      v1.inputName,
      'float32',
      v1.features.map((f) => ({ name: f.name, min: f.min, max: f.max })),
    ),
    task: 'classification',
    target: v1.target,
    labelOutput: v1.labelOutput,
    labelKind: 'index',
    probabilitiesOutput: v1.probabilitiesOutput,
    classLabels: v1.classLabels,
  };
  return signature;
}

/** A stored training reference in the current format: format 1 references had numeric features only. */
export function migrateReference(stored: unknown): TrainingReference {
  const r = stored as TrainingReference;
  if (!Array.isArray(r?.features)) return r;
  const features = r.features.map((f) => (f.kind ? f : ({ ...(f as object), kind: 'numeric' } as FeatureReference)));
  return { ...r, features };
}

export type { ClassificationSignature, RegressionSignature };
