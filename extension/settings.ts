import * as vscode from 'vscode';
import { clientApiToken } from '../common/api-token';
import { dataDir } from '../common/config';
import { checkSettings, type Settings } from './settings-check';

export type { Settings } from './settings-check';

const KEYS = [
  'server.host',
  'server.port',
  'server.autoStart',
  'nodePath',
  'dataDirectory',
  'pipeline',
  'defaultAlias',
  'model',
  'projectDirectory',
];

/** The extension's settings (`mlops.*`), read fresh and checked each time they are needed. */
/**
 * The management API's token: MLOPS_API_TOKEN, else the one the server wrote into its data dir
 * (server-process.ts starts it with cwd the project and MLOPS_DATA_DIR the setting).
 */
export function apiToken(): string | undefined {
  return clientApiToken(dataDirectory()) ?? undefined;
}

/** The data dir the extension's server uses: mlops.dataDirectory, else the project's default. */
export function dataDirectory(s: Settings = settings()): string {
  const env = { ...process.env, ...(s.dataDirectory ? { MLOPS_DATA_DIR: s.dataDirectory } : {}) };
  return dataDir(env, s.projectDirectory ?? process.cwd());
}

export function settings(): Settings {
  const c = vscode.workspace.getConfiguration('mlops');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? null;
  return checkSettings(Object.fromEntries(KEYS.map((k) => [k, c.get(k)])), folder);
}

export function baseUrl(s: Settings = settings()): string {
  return `http://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
}
