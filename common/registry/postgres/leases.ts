import type { LeaseApi } from '../store';
import type { PgDb } from './db';

/** The database's clock in milliseconds: hosts that share the database need not agree on the time. */
export const NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

/** Leases on PostgreSQL: an upsert is atomic against a concurrent one, so two takers never both win. */
export class PgLeaseStore implements LeaseApi {
  constructor(private readonly db: PgDb) {}

  async acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, ${NOW_MS} + $3)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at <= ${NOW_MS}
       RETURNING name`,
      [name, holder, Math.round(ttlMs)],
    );
    return rows.length === 1;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.db.query(`DELETE FROM leases WHERE name = $1 AND holder = $2`, [name, holder]);
  }

  async live(prefix: string): Promise<{ name: string; holder: string; remainingMs: number }[]> {
    const rows = await this.db.query<{ name: string; holder: string; remaining: string }>(
      `SELECT name, holder, expires_at - ${NOW_MS} AS remaining FROM leases
       WHERE left(name, $1) = $2 AND expires_at > ${NOW_MS} ORDER BY name COLLATE "C"`,
      [prefix.length, prefix],
    );
    return rows.map((r) => ({ name: r.name, holder: r.holder, remainingMs: Number(r.remaining) }));
  }
}
