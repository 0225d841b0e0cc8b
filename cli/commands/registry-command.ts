import { openRegistry, type Registry } from '../../common/registry';

/** Runs `fn` with the registry open, closing it after. */
export function withRegistry<T>(fn: (registry: Registry) => T): T {
  const registry = openRegistry();
  try {
    return fn(registry);
  } finally {
    registry.close();
  }
}
