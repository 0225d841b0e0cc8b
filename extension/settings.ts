import * as vscode from 'vscode';
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
  'projectDirectory',
];

/** The extension's settings (`mlops.*`), read fresh and checked each time they are needed. */
export function settings(): Settings {
  const c = vscode.workspace.getConfiguration('mlops');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? null;
  return checkSettings(Object.fromEntries(KEYS.map((k) => [k, c.get(k)])), folder);
}

export function baseUrl(s: Settings = settings()): string {
  return `http://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
}
