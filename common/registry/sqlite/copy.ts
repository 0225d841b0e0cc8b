import { errors } from '../../errors';
import { REGISTRY_TABLES } from '../rows';
import type { RegistryCopyApi, RegistryRows } from '../store';
import type { SqliteConnection } from './connection';
import { SCHEMA_VERSION } from './database';

/** `mlops db copy` from and into SQLite: every table's rows as they are, in dependency order. */
export class SqliteCopy implements RegistryCopyApi {
  constructor(private readonly conn: SqliteConnection) {}

  exportRows(): Promise<RegistryRows> {
    return this.conn.transaction(() => ({
      schemaVersion: SCHEMA_VERSION,
      tables: Object.fromEntries(
        REGISTRY_TABLES.map((t) => [t, this.conn.db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all() as Record<string, unknown>[]]),
      ),
    }));
  }

  /**
   * Inserts the rows with their own keys (version numbers, alias_history ids, times), so the copy
   * reads exactly as the source; the triggers forbid updates and deletes, not these inserts.
   */
  async importRows(rows: RegistryRows): Promise<void> {
    if (rows.schemaVersion !== SCHEMA_VERSION) {
      throw errors.registry(
        `cannot import rows of schema version ${rows.schemaVersion} into ${this.conn.file} (schema version ${SCHEMA_VERSION})`,
      );
    }
    const unknown = Object.keys(rows.tables).filter((t) => !(REGISTRY_TABLES as readonly string[]).includes(t));
    if (unknown.length > 0) throw errors.registry(`cannot import unknown registry tables: ${unknown.join(', ')}`);
    return this.conn.transaction(() => {
      const filled = REGISTRY_TABLES.filter((t) => this.conn.db.prepare(`SELECT 1 FROM ${t} LIMIT 1`).get() !== undefined);
      if (filled.length > 0) {
        throw errors.registry(`${this.conn.file} is not empty (${filled.join(', ')} hold rows): import only into a new registry`);
      }
      for (const table of REGISTRY_TABLES) this.insertAll(table, rows.tables[table] ?? []);
    }, true);
  }

  private insertAll(table: string, rows: Record<string, unknown>[]): void {
    const columns = new Set((this.conn.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
    for (const row of rows) {
      const names = Object.keys(row);
      const stray = names.filter((n) => !columns.has(n));
      if (stray.length > 0) throw errors.registry(`cannot import ${table}: no column ${stray.join(', ')} here`);
      this.conn.db
        .prepare(`INSERT INTO ${table} (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`)
        .run(...names.map((n) => sqliteValue(row[n])));
    }
  }
}

/** PostgreSQL hands back booleans (alias_history.removed), bigints and dates; SQLite stores them as 0/1, numbers and ISO text. */
function sqliteValue(v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.toISOString();
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) return JSON.stringify(v);
  return v;
}
