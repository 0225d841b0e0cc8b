import { errors } from '../../common/errors';

interface Base<T> {
  default: T;
  help?: string;
}
export type ParamSpec =
  | (Base<number> & { type: 'int' | 'number'; min?: number; max?: number })
  | (Base<string> & { type: 'string' })
  | (Base<string> & { type: 'path' })
  | (Base<boolean> & { type: 'boolean' })
  | (Base<string> & { type: 'enum'; values: readonly string[] });

export type ParamSpecs = Record<string, ParamSpec>;

/** The values a step sees, typed from the declarations. */
export type ParamValues<P extends ParamSpecs> = {
  [K in keyof P]: P[K]['default'];
};

type Range = { min?: number; max?: number; help?: string };

/** Declarations with defaults: `param.int(42)`, `param.enum(['a', 'b'], 'a')`, `param.path('data.csv')`. */
export const param = {
  int: (value: number, o: Range = {}) => ({ type: 'int' as const, default: value, ...o }),
  number: (value: number, o: Range = {}) => ({ type: 'number' as const, default: value, ...o }),
  string: (value: string, help?: string) => ({ type: 'string' as const, default: value, help }),
  boolean: (value: boolean, help?: string) => ({ type: 'boolean' as const, default: value, help }),
  enum: <const V extends string>(values: readonly V[], value: NoInfer<V>, help?: string) => ({
    type: 'enum' as const,
    values,
    default: value,
    help,
  }),
  /** A file path. The default is relative to the pipeline's folder; a value given by the user, to the working directory. */
  path: (value: string, help?: string) => ({ type: 'path' as const, default: value, help }),
};

/**
 * Turns `key=value` strings into typed values, filling defaults; every mistake is a one-line
 * error naming the param. `resolvePath` resolves defaults and user-given paths.
 */
export function resolveParams(
  pipeline: string,
  specs: ParamSpecs,
  given: Record<string, string>,
  resolvePath: (value: string, isDefault: boolean) => string,
): ParamValues<ParamSpecs> {
  const known = Object.keys(specs);
  for (const name of Object.keys(given)) {
    if (!(name in specs)) throw errors.unknownParam(name, pipeline, known);
  }
  const values: ParamValues<ParamSpecs> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = given[name];
    values[name] = raw === undefined ? defaultValue(spec, resolvePath) : parseValue(name, spec, raw, resolvePath);
  }
  return values;
}

function defaultValue(spec: ParamSpec, resolvePath: (value: string, isDefault: boolean) => string): ParamSpec['default'] {
  return spec.type === 'path' ? resolvePath(spec.default, true) : spec.default;
}

function parseValue(
  name: string,
  spec: ParamSpec,
  raw: string,
  resolvePath: (value: string, isDefault: boolean) => string,
): ParamSpec['default'] {
  switch (spec.type) {
    case 'int':
    case 'number': {
      const n = raw.trim() === '' ? NaN : Number(raw);
      const kind = spec.type === 'int' ? 'an integer' : 'a number';
      if (!Number.isFinite(n) || (spec.type === 'int' && !Number.isInteger(n))) throw errors.badParamValue(name, kind, raw);
      if (spec.min !== undefined && n < spec.min) throw errors.badParamValue(name, `${kind} >= ${spec.min}`, raw);
      if (spec.max !== undefined && n > spec.max) throw errors.badParamValue(name, `${kind} <= ${spec.max}`, raw);
      return n;
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw errors.badParamValue(name, 'true or false', raw);
    case 'enum':
      if (!spec.values.includes(raw)) throw errors.badParamValue(name, `one of ${spec.values.join(', ')}`, raw);
      return raw;
    case 'path':
      if (raw.trim() === '') throw errors.badParamValue(name, 'a file path', raw);
      return resolvePath(raw, false);
    case 'string':
      return raw;
  }
}

/** `["a=1", "b=x"]` → `{a: "1", b: "x"}`; a word without `=` is an error. */
export function parseAssignments(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw errors.badParamValue(pair, 'the form key=value', pair);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
