import type { AliasMove, ModelSummary, ModelVersion } from '../../contract';
import { errors } from '../../errors';
import { failpoint } from '../../failpoint';
import type { ModelRef } from '../../model-uri';
import type { ArtifactStore } from '../artifacts';
import { checkNewVersion, type NewVersion } from '../models';
import { checkAlias, checkName } from '../names';
import { insertSql, newVersionRow, now, toAliasMove, toVersion, type AliasHistoryRow, type VersionRow } from '../rows';
import type { ModelStoreApi } from '../store';
import type { SqliteConnection } from './connection';

/**
 * The model registry in SQLite: immutable numbered versions (a file in the artifact store plus a
 * row), movable aliases with an append-only history. The only code that writes SQL for models here.
 * The private methods are synchronous so that transactions can compose them.
 */
export class SqliteModelStore implements ModelStoreApi {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly artifacts: ArtifactStore,
  ) {}

  private get db() {
    return this.conn.db;
  }

  /**
   * Atomic: the file is staged and fsynced first (outside any transaction: it may be slow), then,
   * under the write lock, the number is chosen, the file moved to its key and the row committed.
   * A crash before the commit leaves at most a file with no row, which nothing reads, the next
   * registration of that number replaces and the orphan sweep removes.
   */
  async register(req: NewVersion): Promise<ModelVersion> {
    checkNewVersion(req);
    const staged = await this.artifacts.stage(req.onnxFile);
    try {
      const version = await this.conn.writeTransaction(async () => {
        const at = now();
        this.db.prepare(`INSERT OR IGNORE INTO models (name, created_at) VALUES (?, ?)`).run(req.model, at);
        const { next } = this.db
          .prepare(`SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_versions WHERE model = ?`)
          .get(req.model) as { next: number };
        const key = await this.artifacts.place(staged, req.model, next);
        try {
          failpoint('registry.after-move');
          const row = newVersionRow(req, next, key, staged.sha256, at);
          this.db.prepare(insertSql('INSERT INTO', 'model_versions', row, () => '?')).run(...row.values);
        } catch (err) {
          await this.artifacts.discard(key);
          throw err;
        }
        return next;
      });
      return await this.conn.run(() => this.versionSync(req.model, version));
    } finally {
      await this.artifacts.discard(staged);
    }
  }

  /** Removes staged files and version folders that no committed row owns (crash leftovers). */
  sweepOrphans(): Promise<string[]> {
    // Under the write lock: no other process can be between its move and its commit.
    return this.conn.writeTransaction(() => this.artifacts.sweep(async (model, version) => this.hasVersion(model, version)));
  }

  private hasVersion(model: string, version: number): boolean {
    return this.db.prepare(`SELECT 1 FROM model_versions WHERE model = ? AND version = ?`).get(model, version) !== undefined;
  }

  list(): Promise<ModelSummary[]> {
    return this.conn.run(() => this.listSync());
  }

  private listSync(): ModelSummary[] {
    const rows = this.db
      .prepare(
        `SELECT m.name, m.created_at, COUNT(v.version) AS versions, MAX(v.version) AS latest, MAX(v.created_at) AS updated_at
         FROM models m JOIN model_versions v ON v.model = m.name GROUP BY m.name ORDER BY m.name`,
      )
      .all() as { name: string; created_at: string; versions: number; latest: number; updated_at: string }[];
    return rows.map((r) => ({
      name: r.name,
      versions: r.versions,
      latest: r.latest,
      aliases: this.aliases(r.name),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  versions(model: string): Promise<ModelVersion[]> {
    return this.conn.run(() => this.versionsSync(model));
  }

  private versionsSync(model: string): ModelVersion[] {
    checkName('model name', model);
    const rows = this.db.prepare(`SELECT * FROM model_versions WHERE model = ? ORDER BY version DESC`).all(model) as VersionRow[];
    if (rows.length === 0) throw errors.notFound(`model '${model}'`);
    const aliases = this.aliases(model);
    return rows.map((r) => toVersion(r, aliases, rows[0].version, this.artifacts));
  }

  version(model: string, version: number): Promise<ModelVersion> {
    return this.conn.run(() => this.versionSync(model, version));
  }

  private versionSync(model: string, version: number): ModelVersion {
    const row = this.db.prepare(`SELECT * FROM model_versions WHERE model = ? AND version = ?`).get(model, version) as
      VersionRow | undefined;
    if (!row) throw errors.notFound(`model '${model}' version ${version}`);
    return toVersion(row, this.aliases(model), this.latest(model), this.artifacts);
  }

  resolve(ref: ModelRef, defaultAlias = 'production'): Promise<ModelVersion> {
    return this.conn.run(() => {
      const latest = this.latest(ref.name);
      if (typeof ref.selector === 'number') return this.versionSync(ref.name, ref.selector);
      const alias = ref.selector ?? defaultAlias;
      if (alias === 'latest') return this.versionSync(ref.name, latest);
      const target = this.aliases(ref.name)[alias];
      if (target !== undefined) return this.versionSync(ref.name, target);
      if (ref.selector === null) return this.versionSync(ref.name, latest);
      throw errors.notFound(`alias '${alias}' of model '${ref.name}'`);
    });
  }

  async setAlias(model: string, alias: string, version: number, by: string): Promise<AliasMove> {
    checkName('model name', model);
    checkAlias(alias);
    return this.conn.transaction(() => this.set(model, alias, version, by), true);
  }

  private set(model: string, alias: string, version: number, by: string): AliasMove {
    this.versionSync(model, version); // throws if there is no such version
    const from = this.aliases(model)[alias] ?? null;
    const at = now();
    this.db
      .prepare(
        `INSERT INTO aliases (model, alias, version, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
      )
      .run(model, alias, version, at);
    const { lastInsertRowid } = this.db
      .prepare(`INSERT INTO alias_history (model, alias, from_version, to_version, at, by) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(model, alias, from, version, at, by);
    return { id: Number(lastInsertRowid), model, alias, fromVersion: from, toVersion: version, at, by };
  }

  async removeAlias(model: string, alias: string, by: string): Promise<AliasMove | null> {
    checkName('model name', model);
    checkAlias(alias);
    return this.conn.transaction(() => this.unset(model, alias, by), true);
  }

  /**
   * Promotes the version under alias `from` (the challenger) to alias `to` (production) and removes
   * `from`, in one transaction: a server polling the registry never sees the two apart.
   */
  async promoteFrom(model: string, from: string, to: string, by: string): Promise<AliasMove[]> {
    checkName('model name', model);
    checkAlias(from);
    checkAlias(to);
    return this.conn.transaction((): AliasMove[] => {
      const aliases = this.aliases(model);
      const version = aliases[from];
      if (version === undefined) {
        this.latest(model); // an unknown model is a 404 of its own
        throw errors.noChallenger(model, from);
      }
      if (aliases[to] === version) throw errors.challengerIsChampion(model, from, to, version);
      const moved = this.set(model, to, version, by);
      return [moved, this.unset(model, from, by)!];
    }, true);
  }

  private unset(model: string, alias: string, by: string): AliasMove | null {
    const version = this.aliases(model)[alias];
    if (version === undefined) return null;
    const at = now();
    this.db.prepare(`DELETE FROM aliases WHERE model = ? AND alias = ?`).run(model, alias);
    const { lastInsertRowid } = this.db
      .prepare(`INSERT INTO alias_history (model, alias, from_version, to_version, at, by, removed) VALUES (?, ?, ?, ?, ?, ?, 1)`)
      .run(model, alias, version, version, at, by);
    return { id: Number(lastInsertRowid), model, alias, fromVersion: version, toVersion: version, at, by, removed: true };
  }

  async history(model: string): Promise<AliasMove[]> {
    checkName('model name', model);
    return this.conn.run(() =>
      (this.db.prepare(`SELECT * FROM alias_history WHERE model = ? ORDER BY id`).all(model) as AliasHistoryRow[]).map(toAliasMove),
    );
  }

  /** Every model with its versions, in one read transaction: no registration lands half-way through. */
  snapshot(): Promise<{ model: ModelSummary; versions: ModelVersion[] }[]> {
    return this.conn.transaction(() => this.listSync().map((model) => ({ model, versions: this.versionsSync(model.name) })));
  }

  private latest(model: string): number {
    checkName('model name', model);
    const row = this.db.prepare(`SELECT MAX(version) AS v FROM model_versions WHERE model = ?`).get(model) as { v: number | null };
    if (row.v === null) throw errors.notFound(`model '${model}'`);
    return row.v;
  }

  private aliases(model: string): Record<string, number> {
    const rows = this.db.prepare(`SELECT alias, version FROM aliases WHERE model = ? ORDER BY alias`).all(model) as {
      alias: string;
      version: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.alias, r.version]));
  }
}
