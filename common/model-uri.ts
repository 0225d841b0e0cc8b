import { errors, isMlopsError } from './errors';
import { checkName } from './registry/names';

// The one parser for how a model is named, everywhere (CLI, `mlops serve`, the HTTP API, the
// extension's "Copy Model URI"): MLflow's model URIs and the short forms typed at a prompt.
//   models:/iris/3            version 3          iris/3
//   models:/iris@production   the alias          iris@production
//   models:/iris/latest       the newest         iris@latest
//                                                iris: production, else latest
// Pure (no registry, no native module): the extension bundles it.

const SCHEME = 'models:/';

/** A model reference: a name and what picks the version. */
export interface ModelRef {
  name: string;
  /** Version number, alias name, or null for "not said" (production, else latest). */
  selector: number | string | null;
}

/** Parses `models:/name/version`, `models:/name@alias`, `name`, `name@alias` or `name/version`. */
export function parseModelRef(text: string): ModelRef {
  if (text.startsWith(SCHEME)) return parseUri(text);
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) throw errors.badModelUri(text, `the scheme must be '${SCHEME}'`);
  const at = text.indexOf('@');
  const slash = text.indexOf('/');
  if (at >= 0) return { name: checkName('model name', text.slice(0, at)), selector: checkName('alias', text.slice(at + 1)) };
  if (slash >= 0) return { name: checkName('model name', text.slice(0, slash)), selector: parseVersion(text.slice(slash + 1)) };
  return { name: checkName('model name', text), selector: null };
}

/** `models:/iris/3` or `models:/iris@production`: what "Copy Model URI" copies. */
export function modelUri(name: string, selector: number | string): string {
  return typeof selector === 'number' ? `${SCHEME}${name}/${selector}` : `${SCHEME}${name}@${selector}`;
}

function parseUri(uri: string): ModelRef {
  const rest = uri.slice(SCHEME.length);
  const match = /^([^/@]*)(?:\/([^/@]*)|@([^/@]*))$/.exec(rest);
  if (!match) {
    const reason =
      rest.includes('/') || rest.includes('@') ? 'one name, then /version or @alias' : 'name a version or an alias after the model';
    throw errors.badModelUri(uri, reason);
  }
  const [, name, version, alias] = match;
  try {
    checkName('model name', name);
    if (alias !== undefined && /^\d+$/.test(alias))
      throw errors.badModelUri(uri, `an alias is not a number; for version ${alias} write models:/${name}/${alias}`);
    if (alias !== undefined) return { name, selector: checkName('alias', alias) };
    if (version === 'latest') return { name, selector: 'latest' };
    if (/^\d+$/.test(version)) return { name, selector: parseVersion(version) };
    // MLflow's stages (Production, Staging) are aliases here.
    throw errors.badModelUri(uri, `'${version}' is not a version number; for an alias write models:/${name}@${version.toLowerCase()}`);
  } catch (err) {
    if (isMlopsError(err) && err.code === 'BAD_NAME') throw errors.badModelUri(uri, err.message);
    throw err;
  }
}

function parseVersion(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw errors.badName('version', text, 'a version is a positive whole number');
  return Number(text);
}
