// The management API's per-data-dir token (Jupyter's model): the server creates it on first start,
// readable by its owner only; the CLI, the extension and the tests read it from the same folder.
// Whoever can read the data directory can read the registry anyway, so the file grants nothing more;
// a web page (DNS rebinding, cross-site request) or another local user cannot read it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const API_TOKEN_FILE = 'api-token';

export function apiTokenPath(dataDir: string): string {
  return path.join(dataDir, API_TOKEN_FILE);
}

/** The token, or null when no server has created one in this data dir yet. */
export function readApiToken(dataDir: string): string | null {
  try {
    return fs.readFileSync(apiTokenPath(dataDir), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** The token a client of /api sends: MLOPS_API_TOKEN when set, else the data dir's (null when none yet). */
export function clientApiToken(dataDir: string, env: NodeJS.ProcessEnv = process.env): string | null {
  return env.MLOPS_API_TOKEN || readApiToken(dataDir);
}

/** `authorization` header carrying that token, or {} when there is none. */
export function apiTokenHeader(dataDir: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const token = clientApiToken(dataDir, env);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * Returns the data dir's token, creating it (mode 0600) when missing. The file appears whole or not
 * at all (written beside it, then hard-linked into place), so servers starting together agree on one.
 */
export function ensureApiToken(dataDir: string): string {
  const file = apiTokenPath(dataDir);
  const existing = readApiToken(dataDir);
  if (existing) {
    // An existing file readable by others (copied, or made by hand) is narrowed to its owner.
    if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
    return existing;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const staged = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  fs.writeFileSync(staged, crypto.randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(staged, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another server won the race, or an empty file was left there: an empty one is replaced.
    if (!readApiToken(dataDir)) fs.renameSync(staged, file);
  } finally {
    fs.rmSync(staged, { force: true });
  }
  return readApiToken(dataDir)!;
}
