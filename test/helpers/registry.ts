import type { Registry, SqliteRegistry } from '../../common/registry';

/** The SQLite connection of a registry, for tests that prove what the database itself enforces. */
export function sqliteDb(registry: Registry): SqliteRegistry['db'] {
  if (registry.backend !== 'sqlite') throw new Error(`this test needs the SQLite registry, not ${registry.backend}`);
  return (registry as SqliteRegistry).db;
}
