import type { RunRecord } from '../../common/contract';
import { openRegistry } from '../../common/registry';

/** A run's record, read from the registry in `dir` (closed again). */
export async function runRecord(dir: string, runId: string): Promise<RunRecord> {
  const registry = await openRegistry({ dataDir: dir });
  try {
    return await registry.runs.get(runId);
  } finally {
    await registry.close();
  }
}

/** Whether a process with this pid exists (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `ok` every 50 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
