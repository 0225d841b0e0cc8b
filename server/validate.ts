import type { ModelSignature } from '../common/contract';
import { errors } from '../common/errors';

// Hand-written rather than JSON-schema validation: the messages must name the row and the field,
// the schema follows whichever version is served (hot swaps), and one pass that also fills the
// input tensor is several times faster than validating and converting separately.

export interface Rows {
  data: Float32Array;
  n: number;
}

const FLOAT32_MAX = 3.4028234663852886e38;

export const badInput = errors.badInput;
const tooMany = errors.tooManyRows;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number') return String(v);
  return typeof v;
}

function checkNumber(v: unknown, where: () => string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX) {
    throw badInput(`${where()} must be a finite number${typeof v === 'number' ? ' within float32 range' : ''}, got ${describe(v)}`);
  }
  return v;
}

/** `/predict`: a JSON list of records holding exactly the signature's features. */
export function rowsFromRecords(body: unknown, signature: ModelSignature, maxRows: number): Rows {
  if (!Array.isArray(body)) throw badInput(`the body must be a JSON list of records, got ${describe(body)}`);
  if (body.length === 0) throw badInput('the body is an empty list: send at least one record');
  if (body.length > maxRows) throw tooMany(body.length, maxRows);
  const names = signature.features.map((f) => f.name);
  const f = names.length;
  const data = new Float32Array(body.length * f);
  for (let i = 0; i < body.length; i++) {
    const row = body[i] as Record<string, unknown>;
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      throw badInput(`row ${i}: expected an object of features, got ${describe(row)}`);
    let keys = 0;
    for (const key in row) if (Object.prototype.hasOwnProperty.call(row, key)) keys++;
    for (let j = 0; j < f; j++) {
      const v = row[names[j]];
      if (v === undefined) throw badInput(`row ${i}: field '${names[j]}' is missing`);
      data[i * f + j] = checkNumber(v, () => `row ${i}: field '${names[j]}'`);
    }
    if (keys !== f) {
      const extra = Object.keys(row).filter((k) => !names.includes(k));
      const fields = extra.map((k) => `'${k}'`).join(', ');
      throw badInput(`row ${i}: unknown field${extra.length > 1 ? 's' : ''} ${fields} (the model takes ${names.join(', ')})`);
    }
  }
  return { data, n: body.length };
}

interface OipInput {
  name?: unknown;
  shape?: unknown;
  datatype?: unknown;
  data?: unknown;
}

const NUMERIC = new Set(['FP16', 'FP32', 'FP64', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);

/**
 * Open Inference Protocol inputs: one [N, F] tensor named as the model's input, or one [N]
 * (or [N, 1]) tensor per feature column, named after the features (MLServer's "pd" form).
 */
export function rowsFromOipInputs(body: unknown, signature: ModelSignature, maxRows: number): Rows {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badInput(`the body must be a JSON object with "inputs", got ${describe(body)}`);
  const inputs = (body as { inputs?: unknown }).inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) throw badInput('"inputs" must be a non-empty list of tensors');
  const names = signature.features.map((f) => f.name);
  const f = names.length;
  const tensors = inputs.map((t, k) => checkTensor(t as OipInput, k));
  if (tensors.length === 1 && tensors[0].name === signature.inputName) {
    const t = tensors[0];
    if (t.shape.length !== 2 || t.shape[1] !== f) throw badInput(`inputs[0] "${t.name}": shape [${t.shape}] does not match [N, ${f}]`);
    const n = t.shape[0];
    if (n > maxRows) throw tooMany(n, maxRows);
    return { data: fill(t.values, n * f, 'inputs[0]'), n };
  }
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const unknown = tensors.filter((t) => !names.includes(t.name)).map((t) => t.name);
  if (unknown.length > 0)
    throw badInput(
      `unknown input${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}: ` +
        `send one "${signature.inputName}" tensor [N, ${f}] or one [N] tensor per feature (${names.join(', ')})`,
    );
  const missing = names.filter((n) => !byName.has(n));
  if (missing.length > 0) throw badInput(`missing input${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}`);
  const n = tensors[0].shape[0];
  if (n > maxRows) throw tooMany(n, maxRows);
  const data = new Float32Array(n * f);
  names.forEach((name, j) => {
    const t = byName.get(name)!;
    const k = tensors.indexOf(t);
    if (!(t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1)) || t.shape[0] !== n) {
      throw badInput(`inputs[${k}] "${name}": shape [${t.shape}] does not match [${n}] like the other columns`);
    }
    const column = fill(t.values, n, `inputs[${k}]`);
    for (let i = 0; i < n; i++) data[i * f + j] = column[i];
  });
  return { data, n };
}

function checkTensor(t: OipInput, k: number): { name: string; shape: number[]; values: unknown[] } {
  const where = `inputs[${k}]`;
  if (typeof t !== 'object' || t === null || Array.isArray(t))
    throw badInput(`${where} must be an object with name, shape, datatype and data`);
  if (typeof t.name !== 'string' || t.name === '') throw badInput(`${where}.name must be a non-empty string`);
  if (!Array.isArray(t.shape) || t.shape.length === 0 || !t.shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw badInput(`${where}.shape must be a list of positive whole numbers, got ${JSON.stringify(t.shape)}`);
  }
  if (typeof t.datatype !== 'string' || !NUMERIC.has(t.datatype)) {
    throw badInput(`${where}.datatype must be a numeric type (FP32, FP64, INT64, …), got ${describe(t.datatype)}`);
  }
  if (!Array.isArray(t.data)) throw badInput(`${where}.data must be a list, got ${describe(t.data)}`);
  // Row-major data may come flat or nested: flatten a bounded depth.
  return { name: t.name, shape: t.shape as number[], values: t.data.flat(4) };
}

function fill(values: unknown[], expected: number, where: string): Float32Array {
  if (values.length !== expected) throw badInput(`${where}.data has ${values.length} values, its shape needs ${expected}`);
  const out = new Float32Array(expected);
  for (let i = 0; i < expected; i++) out[i] = checkNumber(values[i], () => `${where}.data[${i}]`);
  return out;
}
