import type { FeatureSpec, ModelSignature, TensorType } from '../../common/contract';
import { errors } from '../../common/errors';
import { jsonTypeOf, oipDatatype } from '../../common/signature';
import { allocateBatch, missingValue, setValue, type InputBatch, type InputBuffer } from '../../common/tensor-layout';

// Hand-written rather than JSON-schema validation: the messages must name the row and the field,
// the schema follows whichever version is served (hot swaps), and one pass that also fills the
// input tensors is several times faster than validating and converting separately.

const FLOAT32_MAX = 3.4028234663852886e38;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

export const badInput = errors.badInput;
const tooMany = errors.tooManyRows;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v;
}

/** How one feature is read and stored, computed once per signature. */
interface FieldPlan {
  name: string;
  type: TensorType;
  /** Index of its input in the signature (and in `buffers` of a plan's batch). */
  input: number;
  stride: number;
  offset: number;
  /** What null becomes (common/tensor-layout.ts missingValue), or undefined when null is refused. */
  missing: number | boolean | string | undefined;
  /** Strict categorical features: the categories a value must be one of. */
  strict: Set<string> | null;
  expected: string;
}

interface SignaturePlan {
  fields: FieldPlan[];
  names: string[];
  /** Feature name → plan, for OIP tensors named after a feature. */
  byName: Map<string, FieldPlan>;
}

const plans = new WeakMap<ModelSignature, SignaturePlan>();

const EXPECTED = {
  number: 'a finite number',
  integer: 'a whole number',
  boolean: 'a boolean (true or false)',
  string: 'a string',
} as const;

function expectedOf(f: FeatureSpec): string {
  const base = EXPECTED[jsonTypeOf(f.type)];
  if (f.strict && f.categories) return `one of ${f.categories.map((c) => (f.type === 'string' ? JSON.stringify(c) : c)).join(', ')}`;
  return missingOf(f) !== undefined ? `${base} or null` : base;
}

/** A nullable feature's stand-in for null; undefined when null is refused (not nullable, or an integer). */
const missingOf = (f: FeatureSpec) => (f.nullable ? (missingValue(f.type) ?? undefined) : undefined);

/** The per-signature plan: where each feature goes and what it must be. */
export function planOf(signature: ModelSignature): SignaturePlan {
  let plan = plans.get(signature);
  if (plan) return plan;
  const inputIndex = new Map(signature.inputs.map((input, k) => [input.name, k]));
  const fields = signature.features.map((f): FieldPlan => {
    const k = inputIndex.get(f.input)!;
    return {
      name: f.name,
      type: f.type,
      input: k,
      stride: signature.inputs[k].width,
      offset: f.column,
      missing: missingOf(f),
      strict: f.strict && f.categories ? new Set(f.categories) : null,
      expected: expectedOf(f),
    };
  });
  plan = { fields, names: fields.map((f) => f.name), byName: new Map(fields.map((f) => [f.name, f])) };
  plans.set(signature, plan);
  return plan;
}

/**
 * Checks one JSON value against its feature and stores it at `index` of its buffer; returns false
 * (storing nothing) when it does not fit, so that the caller can name the place in its own words.
 */
function store(field: FieldPlan, buffer: InputBuffer, index: number, v: unknown): boolean {
  if (v === null) {
    if (field.missing === undefined) return false;
    setValue(buffer, index, field.type, field.missing);
    return true;
  }
  switch (field.type) {
    case 'float32':
    case 'float64':
      if (typeof v === 'number') {
        if (!Number.isFinite(v) || (field.type === 'float32' && Math.abs(v) > FLOAT32_MAX)) return false;
        (buffer as Float32Array)[index] = v;
        return true;
      }
      return false;
    case 'int64':
      if (!Number.isSafeInteger(v)) return false;
      (buffer as BigInt64Array)[index] = BigInt(v as number);
      return true;
    case 'int32':
      if (!Number.isInteger(v) || (v as number) < INT32_MIN || (v as number) > INT32_MAX) return false;
      (buffer as Int32Array)[index] = v as number;
      return true;
    case 'bool':
      if (typeof v !== 'boolean') return false;
      (buffer as Uint8Array)[index] = v ? 1 : 0;
      return true;
    case 'string':
      if (typeof v !== 'string' || (field.strict !== null && !field.strict.has(v))) return false;
      (buffer as string[])[index] = v;
      return true;
  }
}

/** Also strict categories of numeric features (int features listing categories). */
function storeChecked(field: FieldPlan, buffer: InputBuffer, index: number, v: unknown): boolean {
  if (!store(field, buffer, index, v)) return false;
  return field.strict === null || field.type === 'string' || field.strict.has(String(v));
}

function mismatch(where: string, field: FieldPlan, v: unknown): never {
  const range = field.type === 'float32' && typeof v === 'number' && Number.isFinite(v) ? ' within float32 range' : '';
  const int32 = field.type === 'int32' && Number.isInteger(v) ? ' within int32 range' : '';
  throw badInput(`${where} must be ${field.expected}${range}${int32}, got ${describe(v)}`);
}

/** `/predict`: a JSON list of records holding exactly the signature's features, laid out as its inputs. */
export function batchFromRecords(body: unknown, signature: ModelSignature, maxRows: number): InputBatch {
  if (!Array.isArray(body)) throw badInput(`the body must be a JSON list of records, got ${describe(body)}`);
  if (body.length === 0) throw badInput('the body is an empty list: send at least one record');
  if (body.length > maxRows) throw tooMany(body.length, maxRows);
  const { fields, names } = planOf(signature);
  const f = fields.length;
  const batch = allocateBatch(signature, body.length);
  const buffers = Array.from(batch.buffers.values());
  for (let i = 0; i < body.length; i++) {
    const row = body[i] as Record<string, unknown>;
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      throw badInput(`row ${i}: expected an object of features, got ${describe(row)}`);
    let keys = 0;
    for (const key in row) if (Object.prototype.hasOwnProperty.call(row, key)) keys++;
    for (let j = 0; j < f; j++) {
      const field = fields[j];
      const v = row[field.name];
      if (v === undefined) throw badInput(`row ${i}: field '${field.name}' is missing`);
      const at = i * field.stride + field.offset;
      if (!storeChecked(field, buffers[field.input], at, v)) mismatch(`row ${i}: field '${field.name}'`, field, v);
    }
    if (keys !== f) {
      const extra = Object.keys(row).filter((k) => !names.includes(k));
      const list = extra.map((k) => `'${k}'`).join(', ');
      throw badInput(`row ${i}: unknown field${extra.length > 1 ? 's' : ''} ${list} (the model takes ${names.join(', ')})`);
    }
  }
  return batch;
}

interface OipInput {
  name?: unknown;
  shape?: unknown;
  datatype?: unknown;
  data?: unknown;
}

const FLOAT_TYPES = new Set(['FP16', 'FP32', 'FP64']);
const INT_TYPES = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);
const KNOWN_TYPES = new Set([...FLOAT_TYPES, ...INT_TYPES, 'BOOL', 'BYTES']);

/** The OIP datatypes a feature of this tensor type accepts: any float for floats, any integer for ints. */
function accepts(type: TensorType, datatype: string): boolean {
  if (type === 'float32' || type === 'float64') return FLOAT_TYPES.has(datatype) || INT_TYPES.has(datatype);
  if (type === 'int64' || type === 'int32') return INT_TYPES.has(datatype);
  return datatype === oipDatatype(type);
}

/** A tensor's data as flat values: flat data is used as is; nested data (row-major) is flattened. */
function flatData(data: unknown[]): unknown[] {
  return data.length > 0 && Array.isArray(data[0]) ? data.flat(4) : data;
}

/**
 * Open Inference Protocol inputs: the model's own inputs by name (one [N, F] tensor, per-column
 * [N, 1] or [N] tensors, or a mix), or one [N] / [N, 1] tensor per feature named after the feature
 * (MLServer's "pd" form); the two namings may be mixed as long as every feature is given once.
 */
export function batchFromOipInputs(body: unknown, signature: ModelSignature, maxRows: number): InputBatch {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badInput(`the body must be a JSON object with "inputs", got ${describe(body)}`);
  const inputs = (body as { inputs?: unknown }).inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) throw badInput('"inputs" must be a non-empty list of tensors');
  const plan = planOf(signature);
  const inputIndex = new Map(signature.inputs.map((input, k) => [input.name, k]));
  const tensors = inputs.map((t, k) => checkTensor(t as OipInput, k));
  const n = tensors[0].shape[0];
  if (n > maxRows) throw tooMany(n, maxRows);
  const batch = allocateBatch(signature, n);
  const buffers = Array.from(batch.buffers.values());
  const given = new Set<string>();
  const give = (name: string, where: string) => {
    if (given.has(name)) throw badInput(`${where}: feature '${name}' is given twice`);
    given.add(name);
  };
  tensors.forEach((t, k) => {
    const where = `inputs[${k}] "${t.name}"`;
    if (t.shape[0] !== n) throw badInput(`${where}: shape [${t.shape}] has ${t.shape[0]} rows, inputs[0] has ${n}`);
    const ki = inputIndex.get(t.name);
    if (ki !== undefined) {
      const input = signature.inputs[ki];
      const fits = t.shape.length === 2 ? t.shape[1] === input.width : t.shape.length === 1 && input.width === 1;
      if (!fits) throw badInput(`${where}: shape [${t.shape}] does not match [N, ${input.width}]`);
      checkDatatype(where, t.datatype, input.type);
      const fields = plan.fields.filter((f) => f.input === ki);
      for (const field of fields) give(field.name, where);
      fillInput(where, t.values, n, input.width, fields, buffers[ki]);
      return;
    }
    const field = plan.byName.get(t.name);
    if (!field) throw unknownInput(t.name, signature);
    if (!(t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1)))
      throw badInput(`${where}: shape [${t.shape}] does not match [${n}] (one feature column)`);
    checkDatatype(where, t.datatype, field.type);
    give(field.name, where);
    fillInput(where, t.values, n, 1, [field], buffers[field.input], field.stride);
  });
  const missing = plan.names.filter((name) => !given.has(name));
  if (missing.length > 0) throw badInput(`missing input${missing.length > 1 ? 's' : ''} for ${missing.map((m) => `'${m}'`).join(', ')}`);
  return batch;
}

function unknownInput(name: string, signature: ModelSignature): Error {
  const inputs = signature.inputs.map((i) => `"${i.name}" [N, ${i.width}]`).join(', ');
  const features = signature.features.map((f) => f.name).join(', ');
  return badInput(`unknown input "${name}": send the model's inputs (${inputs}) or one [N] tensor per feature (${features})`);
}

function checkDatatype(where: string, datatype: string, type: TensorType): void {
  if (!accepts(type, datatype)) throw badInput(`${where}: datatype ${datatype} does not fit a ${type} input (send ${oipDatatype(type)})`);
}

/**
 * Row-major values of `width` columns into a batch buffer: column c of row i goes to the field at
 * column c. A per-feature tensor has width 1 and writes at the feature's own stride and offset.
 */
function fillInput(
  where: string,
  values: unknown[],
  n: number,
  width: number,
  fields: FieldPlan[],
  buffer: InputBuffer,
  stride = width,
): void {
  if (values.length !== n * width) throw badInput(`${where}.data has ${values.length} values, its shape needs ${n * width}`);
  const byColumn: FieldPlan[] = new Array<FieldPlan>(width);
  if (width === 1) byColumn[0] = fields[0];
  else for (const f of fields) byColumn[f.offset] = f;
  for (let c = 0; c < width; c++) {
    const field = byColumn[c];
    const offset = width === 1 ? field.offset : c;
    for (let i = 0, at = offset, from = c; i < n; i++, at += stride, from += width) {
      const v = values[from];
      if (!storeChecked(field, buffer, at, v)) mismatch(`${where}.data[${from}] (row ${i}, '${field.name}')`, field, v);
    }
  }
}

function checkTensor(t: OipInput, k: number): { name: string; shape: number[]; datatype: string; values: unknown[] } {
  const where = `inputs[${k}]`;
  if (typeof t !== 'object' || t === null || Array.isArray(t))
    throw badInput(`${where} must be an object with name, shape, datatype and data`);
  if (typeof t.name !== 'string' || t.name === '') throw badInput(`${where}.name must be a non-empty string`);
  if (!Array.isArray(t.shape) || t.shape.length === 0 || t.shape.length > 2 || !t.shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw badInput(`${where}.shape must be [N] or [N, F] of positive whole numbers, got ${JSON.stringify(t.shape)}`);
  }
  if (typeof t.datatype !== 'string' || !KNOWN_TYPES.has(t.datatype)) {
    throw badInput(`${where}.datatype must be an OIP datatype (FP32, FP64, INT64, INT32, BOOL, BYTES, …), got ${describe(t.datatype)}`);
  }
  if (!Array.isArray(t.data)) throw badInput(`${where}.data must be a list, got ${describe(t.data)}`);
  return { name: t.name, shape: t.shape as number[], datatype: t.datatype, values: flatData(t.data) };
}
