import { openRegistry, type Registry } from '../../common/registry';
import { translateSqliteError } from '../../common/sqlite';

/** Runs `fn` with the registry open, closing it after; a locked database is a clear error. */
export function withRegistry<T>(fn: (registry: Registry) => T): T {
  const registry = openRegistry();
  try {
    return fn(registry);
  } catch (err) {
    throw translateSqliteError(err, registry.file);
  } finally {
    registry.close();
  }
}
