import { errors } from '../../errors';
import type { RegistryRows } from '../store';
import { REGISTRY_TABLES as TABLES } from '../rows';
import type { PgDb, Queryable } from './db';
import { SCHEMA_VERSION, schemaVersion } from './migrations';

// A stable order for each table's rows: its primary key.
const ORDER: Record<(typeof TABLES)[number], string> = {
  models: 'name',
  model_versions: 'model, version',
  aliases: 'model, alias',
  alias_history: 'id',
  runs: 'id',
  run_steps: 'run_id, name',
  run_metrics: 'run_id, name',
  run_artifacts: 'run_id, name',
  step_cache: 'run_id, step',
};

/** PostgreSQL takes at most 65535 parameters per statement. */
const MAX_PARAMS = 60_000;

/** Every row of every registry table, read in one consistent snapshot. */
export async function exportRows(db: PgDb): Promise<RegistryRows> {
  return db.tx(
    async (q) => {
      const tables: RegistryRows['tables'] = {};
      for (const t of TABLES) tables[t] = await q.query(`SELECT * FROM ${t} ORDER BY ${ORDER[t]}`);
      return { schemaVersion: await schemaVersion(q), tables };
    },
    { readOnlySnapshot: true },
  );
}

/**
 * Writes rows (from this backend or SQLite) into this empty registry in one transaction, keeping
 * version numbers, alias history ids and times; the history's id sequence is moved past the copied
 * ids. Refuses a non-empty registry and rows of another schema version.
 */
export async function importRows(db: PgDb, rows: RegistryRows): Promise<void> {
  if (rows.schemaVersion !== SCHEMA_VERSION) throw errors.registryCopySchema(db.location, rows.schemaVersion, SCHEMA_VERSION);
  await db.tx(async (q) => {
    // No other writer between the emptiness check and the inserts.
    await q.query(`LOCK TABLE ${TABLES.join(', ')} IN SHARE ROW EXCLUSIVE MODE`);
    for (const t of TABLES) {
      if ((await q.query(`SELECT 1 FROM ${t} LIMIT 1`)).length > 0) throw errors.registryNotEmpty(db.location, t);
    }
    for (const t of TABLES) await insertAll(q, db.location, t, rows.tables[t] ?? []);
    await q.query(`SELECT setval(pg_get_serial_sequence('alias_history', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM alias_history`);
  });
}

async function insertAll(q: Queryable, location: string, table: string, rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  // Column names come from the rows: only the table's own are let into the SQL.
  const known = new Set(
    (
      await q.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`,
        [table],
      )
    ).map((c) => c.column_name),
  );
  const columns = Object.keys(rows[0]);
  const unknown = columns.find((c) => !known.has(c));
  if (unknown !== undefined) throw errors.registry(`cannot copy into ${location}: table ${table} has no column '${unknown}'`);
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const params: unknown[] = [];
    const tuples = chunk.map((row) => `(${columns.map((c) => `$${params.push(row[c] ?? null)}`).join(', ')})`);
    await q.query(`INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${tuples.join(', ')}`, params);
  }
}
