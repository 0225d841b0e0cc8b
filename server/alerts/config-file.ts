import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_ALERTS, parseAlertsConfig, type AlertsConfig } from './rules';

/** The project's alerts file: MLOPS_ALERTS_FILE, else mlops-alerts.json in the directory the server runs in. */
export function alertsFilePath(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return path.resolve(cwd, env.MLOPS_ALERTS_FILE || 'mlops-alerts.json');
}

/** The rules of the file, or the defaults when there is no file; throws ALERTS_CONFIG when it is invalid. */
export function readAlertsFile(file: string): AlertsConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_ALERTS;
    throw err;
  }
  return parseAlertsConfig(text, file);
}

/**
 * Calls `onChange` with the file's rules each time it changes (created, edited, replaced by an editor's
 * rename, deleted: the defaults), or `onError` when the new content is invalid. The directory is
 * watched, not the file, so that a file that does not exist yet or is replaced is still seen.
 */
export function watchAlertsFile(file: string, onChange: (config: AlertsConfig) => void, onError: (err: Error) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let last = snapshot(file);
  const reread = () => {
    const now = snapshot(file);
    if (now === last) return;
    last = now;
    try {
      onChange(readAlertsFile(file));
    } catch (err) {
      onError(err as Error);
    }
  };
  let watcher: fs.FSWatcher;
  try {
    watcher = fs.watch(path.dirname(file), (_event, name) => {
      if (name !== null && name !== path.basename(file)) return;
      // Editors write in several steps: read once they are done.
      clearTimeout(timer);
      timer = setTimeout(reread, 100);
    });
  } catch (err) {
    onError(err as Error);
    return () => {};
  }
  watcher.on('error', onError);
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}

/** The file's content (null when absent): a change event that leaves it the same is ignored. */
function snapshot(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
