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

/** withRegistry for work that awaits (an import scores its model): the registry closes when it settles. */
export async function withRegistryAsync<T>(fn: (registry: Registry) => Promise<T>): Promise<T> {
  const registry = openRegistry();
  try {
    return await fn(registry);
  } catch (err) {
    throw translateSqliteError(err, registry.file);
  } finally {
    registry.close();
  }
}
