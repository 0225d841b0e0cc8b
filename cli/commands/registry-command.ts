import { openRegistry, type Registry } from '../../common/registry';

/** Runs `fn` with the registry open (MLOPS_DATABASE_URL), closing it once `fn` settles. */
export async function withRegistry<T>(fn: (registry: Registry) => T | Promise<T>): Promise<T> {
  const registry = await openRegistry();
  try {
    return await fn(registry);
  } finally {
    await registry.close();
  }
}
