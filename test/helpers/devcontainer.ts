import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './cli';

/** The parts of devcontainer.json the tests read, after the Dev Containers CLI resolved it. */
export interface DevcontainerConfig {
  build: { dockerfile: string; args: Record<string, string> };
  forwardPorts: number[];
  portsAttributes: Record<string, { label: string }>;
  containerEnv: Record<string, string>;
  mounts: string[];
  customizations: { vscode: { extensions: string[]; settings: Record<string, unknown> } };
  [lifecycle: string]: unknown;
}

/** `devcontainer read-configuration`, as VS Code's Dev Containers reads the project's config. */
export function readDevcontainerConfig(env: NodeJS.ProcessEnv = {}): DevcontainerConfig {
  const cli = path.join(ROOT, 'node_modules', '@devcontainers', 'cli', 'devcontainer.js');
  const r = spawnSync(process.execPath, [cli, 'read-configuration', '--workspace-folder', ROOT, '--docker-path', '/bin/true'], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) throw new Error(`devcontainer read-configuration failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { configuration: DevcontainerConfig }).configuration;
}

/** The extensions devcontainer.json lists by absolute path: packages inside the image. */
export function vsixPaths(c: DevcontainerConfig): string[] {
  return c.customizations.vscode.extensions.filter((e) => e.startsWith('/'));
}

/** code-server's password login: the workbench redirects to it; only the right password gets a session. */
export async function checkPasswordLogin(url: string, password: string): Promise<void> {
  const home = await fetch(`${url}/`, { redirect: 'manual' });
  assert.equal(home.status, 302);
  assert.match(home.headers.get('location') ?? '', /login/);
  const login = (p: string) => fetch(`${url}/login`, { method: 'POST', body: new URLSearchParams({ password: p }), redirect: 'manual' });
  assert.doesNotMatch((await login(`not-${password}`)).headers.get('set-cookie') ?? '', /code-server-session/);
  assert.match((await login(password)).headers.get('set-cookie') ?? '', /code-server-session=/);
}
