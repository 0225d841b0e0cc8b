import type { LeaseApi } from '../store';
import type { SqliteConnection } from './connection';

/** Leases in the SQLite file: one host, so its clock is the only one. */
export class SqliteLeaseStore implements LeaseApi {
  constructor(private readonly conn: SqliteConnection) {}

  acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.conn.run(() => {
      const now = Date.now();
      // The upsert's WHERE leaves a live lease of another holder as it is: no row changed, not acquired.
      const { changes } = this.conn.db
        .prepare(
          `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
           WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
        )
        .run(name, holder, now + ttlMs, now);
      return changes === 1;
    });
  }

  release(name: string, holder: string): Promise<void> {
    return this.conn.run(() => void this.conn.db.prepare(`DELETE FROM leases WHERE name = ? AND holder = ?`).run(name, holder));
  }

  live(prefix: string): Promise<{ name: string; holder: string; remainingMs: number }[]> {
    return this.conn.run(() => {
      const now = Date.now();
      const rows = this.conn.db
        .prepare(`SELECT name, holder, expires_at FROM leases WHERE substr(name, 1, ?) = ? AND expires_at > ? ORDER BY name`)
        .all(prefix.length, prefix, now) as { name: string; holder: string; expires_at: number }[];
      return rows.map((r) => ({ name: r.name, holder: r.holder, remainingMs: r.expires_at - now }));
    });
  }
}
