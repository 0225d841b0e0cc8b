import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const MLOPS = path.join(ROOT, 'bin', 'mlops.js');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
export const IRIS_CSV = path.join(ROOT, 'pipeline', 'examples', 'iris', 'iris_dataset.csv');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh, empty data directory for one test. */
export function tempDataDir(prefix = 'mlops-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs the real `mlops` command (the built bundle) as a child process. */
export function mlops(dataDir: string, args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [MLOPS, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, MLOPS_DATA_DIR: dataDir, ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking the test process (for concurrent runs and kills). */
export function mlopsAsync(dataDir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [MLOPS, ...args], {
    cwd: ROOT,
    env: { ...process.env, MLOPS_DATA_DIR: dataDir, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

export function json<T>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

/**
 * Skip reason for a test whose prerequisite is missing, or false to run it. Under
 * MLOPS_TEST_STRICT=1 (set by .ci/run) a missing prerequisite fails instead of skipping.
 */
export function needs(ok: boolean, what: string): false | string {
  if (ok) return false;
  if (process.env.MLOPS_TEST_STRICT === '1') throw new Error(`missing test prerequisite: ${what}`);
  return `skipped: needs ${what}`;
}

/** Python 3 with numpy and onnx (Debian's python3-onnx), or null. */
export function pythonWithOnnx(): string | null {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(candidate, ['-c', 'import onnx, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return candidate;
  }
  return null;
}
