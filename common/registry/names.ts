import { errors } from '../errors';

// Names end up in file paths and URLs: one strict rule keeps path traversal out.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkName(kind: 'model name' | 'alias' | 'run id', value: string): string {
  if (!NAME.test(value) || value.includes('..')) {
    throw errors.badName(kind, value, 'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  return value;
}

export function checkAlias(value: string): string {
  checkName('alias', value);
  if (/^\d+$/.test(value)) throw errors.badName('alias', value, 'an alias cannot be a number (that is a version)');
  if (value === 'latest') throw errors.badName('alias', value, '"latest" always means the newest version and cannot be moved');
  return value;
}

/** A model reference as users type it: `iris`, `iris@production`, `iris/3`, `iris@latest`. */
export interface ModelRef {
  name: string;
  /** Version number, alias name, or null for "not said". */
  selector: number | string | null;
}

export function parseModelRef(text: string): ModelRef {
  const at = text.indexOf('@');
  const slash = text.indexOf('/');
  if (at >= 0) return { name: checkName('model name', text.slice(0, at)), selector: checkName('alias', text.slice(at + 1)) };
  if (slash >= 0) {
    const v = text.slice(slash + 1);
    if (!/^[1-9]\d*$/.test(v)) throw errors.badName('version', v, 'a version is a positive whole number');
    return { name: checkName('model name', text.slice(0, slash)), selector: Number(v) };
  }
  return { name: checkName('model name', text), selector: null };
}
