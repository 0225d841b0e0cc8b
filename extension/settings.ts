import * as vscode from 'vscode';

/** The extension's settings (`mlops.*`), read fresh each time they are needed. */
export interface Settings {
  host: string;
  port: number;
  autoStart: boolean;
  nodePath: string;
  dataDirectory: string;
  pipeline: string;
  defaultAlias: string;
  /** The project holding node_modules and dist/ (server and runner): a workspace folder. */
  projectDirectory: string | null;
}

export function settings(): Settings {
  const c = vscode.workspace.getConfiguration('mlops');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? null;
  return {
    host: c.get('server.host', '127.0.0.1'),
    port: c.get('server.port', 8000),
    autoStart: c.get('server.autoStart', true),
    nodePath: c.get('nodePath', '') || 'node',
    dataDirectory: c.get('dataDirectory', ''),
    pipeline: c.get('pipeline', ''),
    defaultAlias: c.get('defaultAlias', 'production'),
    projectDirectory: c.get('projectDirectory', '') || folder,
  };
}

export function baseUrl(s: Settings = settings()): string {
  return `http://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
}
