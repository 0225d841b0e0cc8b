import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/net';

// A real VS Code workbench for the end-to-end test: code-server from npm, installed on demand
// into a cache folder (about 800 MB, never into the project's dependencies), run with Node 24
// from the npm registry, as @vscode/test-electron downloads VS Code into a cache. Its version is
// the one the image builds (the Dockerfile's ARG), so the tests and MODE=web drive the same VS Code.
export const CODE_SERVER_VERSION = dockerfileCodeServerVersion();
export const CACHE = process.env.MLOPS_E2E_CACHE ?? path.join(os.homedir(), '.cache', 'mlops-e2e', `code-server-${CODE_SERVER_VERSION}`);
export const NODE24 = path.join(CACHE, 'node_modules', 'node', 'bin', 'node');
export const ENTRY = path.join(CACHE, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const CHROMIUM = process.env.MLOPS_E2E_CHROMIUM ?? '/usr/bin/chromium';

function dockerfileCodeServerVersion(): string {
  const dockerfile = path.join(__dirname, '..', '..', '.devcontainer', 'Dockerfile');
  const m = /^ARG CODE_SERVER_VERSION=(\S+)$/m.exec(fs.readFileSync(dockerfile, 'utf8'));
  if (!m) throw new Error(`${dockerfile}: no "ARG CODE_SERVER_VERSION=<version>" line`);
  return m[1];
}

export function installed(): boolean {
  return fs.existsSync(NODE24) && fs.existsSync(ENTRY);
}

/** npm install of code-server (built against Node 20 headers) and a Node 24 binary into CACHE. */
export function install(): void {
  fs.mkdirSync(CACHE, { recursive: true });
  if (!fs.existsSync(path.join(CACHE, 'package.json')))
    fs.writeFileSync(path.join(CACHE, 'package.json'), '{"name":"mlops-e2e-cache","private":true}\n');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', `code-server@${CODE_SERVER_VERSION}`, 'node@24'], {
    cwd: CACHE,
    stdio: 'inherit',
    env: { ...process.env, FORCE_NODE_VERSION: '20' },
  });
  if (r.status !== 0 || !installed()) throw new Error(`installing code-server into ${CACHE} failed`);
}

export interface Workbench {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Installs the .vsix into a fresh profile and serves the workbench on loopback for `folder`. */
export async function startWorkbench(
  vsix: string,
  folder: string,
  settings: Record<string, unknown>,
  env: NodeJS.ProcessEnv = {},
): Promise<Workbench> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-e2e-profile-'));
  const dirs = ['--user-data-dir', path.join(profile, 'user'), '--extensions-dir', path.join(profile, 'extensions')];
  fs.mkdirSync(path.join(profile, 'user', 'User'), { recursive: true });
  fs.writeFileSync(path.join(profile, 'user', 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  const childEnv = { ...process.env, ...env, XDG_CONFIG_HOME: path.join(profile, 'config') };
  const installRun = spawnSync(NODE24, [ENTRY, ...dirs, '--install-extension', vsix], { encoding: 'utf8', env: childEnv });
  if (installRun.status !== 0 || !/successfully installed/.test(installRun.stdout))
    throw new Error(`vsix install failed: ${installRun.stdout}${installRun.stderr}`);
  const port = await freePort();
  const child = spawn(
    NODE24,
    [
      ENTRY,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      ...dirs,
      folder,
    ],
    {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      if (out.includes('HTTP server listening')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', () => reject(new Error(`code-server exited: ${out}`)));
    setTimeout(() => reject(new Error(`code-server did not start: ${out}`)), 60_000);
  });
  return {
    url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`,
    process: child,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      child.kill('SIGKILL');
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
