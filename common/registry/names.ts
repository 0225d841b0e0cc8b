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
