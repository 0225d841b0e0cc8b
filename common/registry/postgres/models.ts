import type { AliasMove, ModelSummary, ModelVersion } from '../../contract';
import { errors } from '../../errors';
import { failpoint } from '../../failpoint';
import type { ModelRef } from '../../model-uri';
import type { ArtifactStore } from '../artifacts';
import { checkNewVersion, type NewVersion } from '../models';
import { checkAlias, checkName } from '../names';
import { insertSql, newVersionRow, now, toAliasMove, toVersion, type AliasHistoryRow, type VersionRow } from '../rows';
import type { ModelStoreApi } from '../store';
import { LOCK_MIGRATE, LOCK_MODEL, LOCK_SWEEP_KEY, type PgDb, type Queryable } from './db';

/** Serializes the writers of one model (registrations, alias moves) across processes and hosts until COMMIT. */
const lockModel = (q: Queryable, model: string) => q.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [LOCK_MODEL, model]);

/**
 * The model registry on PostgreSQL: immutable numbered versions (a file in the artifact store plus a
 * row), movable aliases with an append-only history, the same semantics as the SQLite store.
 */
export class PgModelStore implements ModelStoreApi {
  constructor(
    private readonly db: PgDb,
    private readonly artifacts: ArtifactStore,
  ) {}

  /**
   * Atomic: the file is staged and fsynced before the transaction; inside it, under the model's lock,
   * the number is chosen, the file placed under it and the row inserted. A failure discards the placed
   * file unless a committed row owns it (discardUnowned); a crash between place and commit leaves a
   * folder no row owns (swept later, or replaced by the next registration of that number), never a row
   * without its file.
   */
  async register(req: NewVersion): Promise<ModelVersion> {
    checkNewVersion(req);
    const staged = await this.artifacts.stage(req.onnxFile);
    let placed: { version: number; key: string } | null = null;
    try {
      const version = await this.db.tx(async (q) => {
        await lockModel(q, req.model);
        const at = now();
        await q.query(`INSERT INTO models (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [req.model, at]);
        const [{ next }] = await q.query<{ next: number }>(
          `SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_versions WHERE model = $1`,
          [req.model],
        );
        placed = { version: next, key: await this.artifacts.place(staged, req.model, next) };
        failpoint('registry.after-move');
        const row = newVersionRow(req, next, placed.key, staged.sha256, at);
        await q.query(
          insertSql('INSERT INTO', 'model_versions', row, (n) => `$${n}`),
          row.values,
        );
        return next;
      });
      placed = null; // committed: the row owns it
      return await this.version(req.model, version);
    } finally {
      if (placed !== null) await this.discardUnowned(req.model, placed);
      await this.artifacts.discard(staged).catch(() => {});
    }
  }

  /**
   * Removes the file a failed registration placed, unless a committed row owns that number. Once our
   * transaction is gone (its connection lost, say) another registration may have taken the number,
   * replaced the folder and committed; or our COMMIT may have gone through with only its answer lost.
   * So the question is asked under the model's lock, with a bound on the wait; when it cannot be
   * answered the file stays: an orphan folder is swept later, a row without its file would be served.
   */
  private async discardUnowned(model: string, placed: { version: number; key: string }): Promise<void> {
    try {
      await this.db.tx(async (q) => {
        await q.query(`SET LOCAL lock_timeout = '5s'`);
        await lockModel(q, model);
        const owned = await q.query(`SELECT 1 FROM model_versions WHERE model = $1 AND version = $2`, [model, placed.version]);
        if (owned.length === 0) await this.artifacts.discard(placed.key);
      });
    } catch {
      /* unreachable or still locked: leave it to the sweep */
    }
  }

  /**
   * Removes staging leftovers and version folders no committed row owns. Each model's lock is tried
   * (session-level, on a client of its own) before its folders are judged, and held until the sweep
   * ends: a model whose lock is taken has a registration between its place and its commit, and its
   * folders are left for a later sweep; one that starts meanwhile waits, so it never places a folder
   * the sweep is about to remove. Never blocks: when another sweep is running, this one does nothing.
   */
  async sweepOrphans(): Promise<string[]> {
    const client = await this.db.pool.connect().catch((err: unknown) => {
      throw this.unreachable(err);
    });
    const tryLock = async (sql: string, params: unknown[]) => (await client.query<{ ok: boolean }>(sql, params)).rows[0].ok;
    const judged = new Map<string, boolean>(); // model → its lock is ours
    let broken: Error | undefined;
    try {
      if (!(await tryLock(`SELECT pg_try_advisory_lock($1, $2) AS ok`, [LOCK_MIGRATE, LOCK_SWEEP_KEY]))) return [];
      return await this.artifacts.sweep(async (model, version) => {
        if (!judged.has(model))
          judged.set(model, await tryLock(`SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok`, [LOCK_MODEL, model]));
        if (!judged.get(model)) return true; // a registration is in progress: not ours to judge now
        const { rows } = await client.query(`SELECT 1 FROM model_versions WHERE model = $1 AND version = $2`, [model, version]);
        return rows.length > 0;
      });
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      throw this.unreachable(err);
    } finally {
      if (!broken) await client.query(`SELECT pg_advisory_unlock_all()`).catch((e: Error) => (broken = e));
      client.release(broken); // a broken client is destroyed, which also frees its locks
    }
  }

  private unreachable(err: unknown): unknown {
    return this.db.translate(err);
  }

  async list(): Promise<ModelSummary[]> {
    return this.summaries(this.db);
  }

  private async summaries(q: Queryable): Promise<ModelSummary[]> {
    const rows = await q.query<{ name: string; created_at: string; versions: number; latest: number; updated_at: string }>(
      `SELECT m.name, m.created_at, COUNT(v.version)::int AS versions, MAX(v.version) AS latest, MAX(v.created_at) AS updated_at
       FROM models m JOIN model_versions v ON v.model = m.name GROUP BY m.name ORDER BY m.name COLLATE "C"`,
    );
    const aliases = await this.aliasesOf(
      q,
      rows.map((r) => r.name),
    );
    return rows.map((r) => ({
      name: r.name,
      versions: r.versions,
      latest: r.latest,
      aliases: aliases.get(r.name) ?? {},
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async versions(model: string): Promise<ModelVersion[]> {
    return this.versionsIn(this.db, model);
  }

  private async versionsIn(q: Queryable, model: string): Promise<ModelVersion[]> {
    checkName('model name', model);
    const rows = await q.query<VersionRow>(`SELECT * FROM model_versions WHERE model = $1 ORDER BY version DESC`, [model]);
    if (rows.length === 0) throw errors.notFound(`model '${model}'`);
    const aliases = await this.aliases(q, model);
    return rows.map((r) => toVersion(r, aliases, rows[0].version, this.artifacts));
  }

  async version(model: string, version: number, q: Queryable = this.db): Promise<ModelVersion> {
    checkName('model name', model);
    const [row] = await q.query<VersionRow>(`SELECT * FROM model_versions WHERE model = $1 AND version = $2`, [model, version]);
    if (!row) throw errors.notFound(`model '${model}' version ${version}`);
    return toVersion(row, await this.aliases(q, model), await this.latest(q, model), this.artifacts);
  }

  async resolve(ref: ModelRef, defaultAlias = 'production'): Promise<ModelVersion> {
    const latest = await this.latest(this.db, ref.name);
    if (typeof ref.selector === 'number') return this.version(ref.name, ref.selector);
    const alias = ref.selector ?? defaultAlias;
    if (alias === 'latest') return this.version(ref.name, latest);
    const target = (await this.aliases(this.db, ref.name))[alias];
    if (target !== undefined) return this.version(ref.name, target);
    if (ref.selector === null) return this.version(ref.name, latest);
    throw errors.notFound(`alias '${alias}' of model '${ref.name}'`);
  }

  async setAlias(model: string, alias: string, version: number, by: string): Promise<AliasMove> {
    checkName('model name', model);
    checkAlias(alias);
    return this.db.tx(async (q) => {
      await lockModel(q, model);
      return this.moveAlias(q, model, alias, version, by);
    });
  }

  async removeAlias(model: string, alias: string, by: string): Promise<AliasMove | null> {
    checkName('model name', model);
    checkAlias(alias);
    return this.db.tx(async (q) => {
      await lockModel(q, model);
      return this.unset(q, model, alias, by);
    });
  }

  /** Moves `to` onto the version under `from` and removes `from`, in one transaction: no replica sees the two apart. */
  async promoteFrom(model: string, from: string, to: string, by: string): Promise<AliasMove[]> {
    checkName('model name', model);
    checkAlias(from);
    checkAlias(to);
    return this.db.tx(async (q) => {
      await lockModel(q, model);
      const aliases = await this.aliases(q, model);
      const version = aliases[from];
      if (version === undefined) {
        await this.latest(q, model); // an unknown model is a 404 of its own
        throw errors.noChallenger(model, from);
      }
      if (aliases[to] === version) throw errors.challengerIsChampion(model, from, to, version);
      const moved = await this.moveAlias(q, model, to, version, by);
      return [moved, (await this.unset(q, model, from, by))!];
    });
  }

  // Both run inside a transaction that holds the model's lock.
  private async moveAlias(q: Queryable, model: string, alias: string, version: number, by: string): Promise<AliasMove> {
    await this.version(model, version, q); // throws if there is no such version
    const from = (await this.aliases(q, model))[alias] ?? null;
    const at = now();
    await q.query(
      `INSERT INTO aliases (model, alias, version, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
      [model, alias, version, at],
    );
    const [row] = await q.query<AliasHistoryRow>(
      `INSERT INTO alias_history (model, alias, from_version, to_version, at, "by") VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [model, alias, from, version, at, by],
    );
    return toAliasMove(row);
  }

  private async unset(q: Queryable, model: string, alias: string, by: string): Promise<AliasMove | null> {
    const version = (await this.aliases(q, model))[alias];
    if (version === undefined) return null;
    await q.query(`DELETE FROM aliases WHERE model = $1 AND alias = $2`, [model, alias]);
    const [row] = await q.query<AliasHistoryRow>(
      `INSERT INTO alias_history (model, alias, from_version, to_version, at, "by", removed)
       VALUES ($1, $2, $3, $3, $4, $5, 1) RETURNING *`,
      [model, alias, version, now(), by],
    );
    return toAliasMove(row);
  }

  async history(model: string): Promise<AliasMove[]> {
    checkName('model name', model);
    const rows = await this.db.query<AliasHistoryRow>(`SELECT * FROM alias_history WHERE model = $1 ORDER BY id`, [model]);
    return rows.map(toAliasMove);
  }

  /** Every model with its versions, in one REPEATABLE READ snapshot: a registration or a move is wholly in or out. */
  async snapshot(): Promise<{ model: ModelSummary; versions: ModelVersion[] }[]> {
    return this.db.tx(
      async (q) => {
        const models = await this.summaries(q);
        const out: { model: ModelSummary; versions: ModelVersion[] }[] = [];
        for (const model of models) out.push({ model, versions: await this.versionsIn(q, model.name) });
        return out;
      },
      { readOnlySnapshot: true },
    );
  }

  private async latest(q: Queryable, model: string): Promise<number> {
    checkName('model name', model);
    const [row] = await q.query<{ v: number | null }>(`SELECT MAX(version) AS v FROM model_versions WHERE model = $1`, [model]);
    if (row.v === null) throw errors.notFound(`model '${model}'`);
    return row.v;
  }

  private async aliases(q: Queryable, model: string): Promise<Record<string, number>> {
    return (await this.aliasesOf(q, [model])).get(model) ?? {};
  }

  private async aliasesOf(q: Queryable, models: string[]): Promise<Map<string, Record<string, number>>> {
    const rows = await q.query<{ model: string; alias: string; version: number }>(
      `SELECT model, alias, version FROM aliases WHERE model = ANY($1) ORDER BY model, alias COLLATE "C"`,
      [models],
    );
    const out = new Map<string, Record<string, number>>();
    for (const r of rows) out.set(r.model, { ...(out.get(r.model) ?? {}), [r.alias]: r.version });
    return out;
  }
}
