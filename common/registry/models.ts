import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AliasMove, ModelSummary, ModelVersion } from '../contract';
import { errors } from '../errors';
import { failpoint } from '../failpoint';
import type { Db } from './database';
import type { ModelRef } from '../model-uri';
import { checkAlias, checkName } from './names';
import { signatureProblems } from '../signature';

/** What a new version is registered from: the stored version's own fields, derived from it so the two cannot drift. */
export interface NewVersion extends Pick<ModelVersion, 'model' | 'signature' | 'metrics' | 'params' | 'lineage' | 'reference'> {
  /** The ONNX file to copy into the registry. */
  onnxFile: string;
}

interface VersionRow {
  model: string;
  version: number;
  path: string;
  sha256: string;
  signature: string;
  metrics: string;
  params: string;
  lineage: string;
  reference: string;
  created_at: string;
}

const now = () => new Date().toISOString();
const STAGING = '.staging';

/**
 * The model registry: immutable numbered versions (files under models/<name>/<version>/ plus a
 * row), movable aliases with an append-only history. The only code that writes SQL for models.
 */
export class ModelStore {
  private readonly modelsDir: string;

  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
  ) {
    this.modelsDir = path.join(dataDir, 'models');
  }

  /**
   * Atomic: the files are staged and fsynced first, then moved to their final folder and the
   * row committed inside one write transaction. A crash before the commit leaves at most a
   * folder with no row, which nothing reads and the next registration of that number replaces.
   */
  register(req: NewVersion): ModelVersion {
    checkName('model name', req.model);
    const problems = signatureProblems(req.signature);
    if (problems.length > 0) throw errors.badSignature(req.model, problems);
    const staged = this.stage(req.onnxFile);
    try {
      const version = this.db
        .transaction(() => {
          const at = now();
          this.db.prepare(`INSERT OR IGNORE INTO models (name, created_at) VALUES (?, ?)`).run(req.model, at);
          const { next } = this.db
            .prepare(`SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_versions WHERE model = ?`)
            .get(req.model) as { next: number };
          const finalDir = this.versionDir(req.model, next);
          fs.rmSync(finalDir, { recursive: true, force: true }); // left by a registration that crashed before committing
          fs.mkdirSync(path.dirname(finalDir), { recursive: true });
          fs.renameSync(staged.dir, finalDir);
          try {
            failpoint('registry.after-move');
            this.db
              .prepare(
                `INSERT INTO model_versions
                   (model, version, path, sha256, signature, metrics, params, lineage, reference, run_id, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
              )
              .run(
                req.model,
                next,
                path.relative(this.dataDir, path.join(finalDir, 'model.onnx')),
                staged.sha256,
                JSON.stringify(req.signature),
                JSON.stringify(req.metrics),
                JSON.stringify(req.params),
                JSON.stringify(req.lineage),
                JSON.stringify(req.reference),
                req.lineage.runId,
                at,
              );
          } catch (err) {
            fs.rmSync(finalDir, { recursive: true, force: true });
            throw err;
          }
          return next;
        })
        .immediate();
      return this.version(req.model, version);
    } finally {
      fs.rmSync(staged.dir, { recursive: true, force: true });
    }
  }

  /** Removes staging folders and version folders that no committed row owns (crash leftovers). */
  sweepOrphans(): string[] {
    if (!fs.existsSync(this.modelsDir)) return [];
    // Under the write lock: no other process can be between its move and its commit.
    return this.db
      .transaction(() => {
        const removed: string[] = [];
        for (const model of fs.readdirSync(this.modelsDir)) {
          const dir = path.join(this.modelsDir, model);
          const keep =
            model === STAGING
              ? (entry: string) => !this.stagingIdle(path.join(dir, entry))
              : (entry: string) => this.hasVersion(model, entry);
          for (const entry of fs.readdirSync(dir).filter((e) => !keep(e))) {
            fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
            removed.push(path.join(model, entry));
          }
        }
        return removed;
      })
      .immediate();
  }

  private hasVersion(model: string, entry: string): boolean {
    return (
      /^\d+$/.test(entry) &&
      this.db.prepare(`SELECT 1 FROM model_versions WHERE model = ? AND version = ?`).get(model, Number(entry)) !== undefined
    );
  }

  list(): ModelSummary[] {
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

  versions(model: string): ModelVersion[] {
    checkName('model name', model);
    const rows = this.db.prepare(`SELECT * FROM model_versions WHERE model = ? ORDER BY version DESC`).all(model) as VersionRow[];
    if (rows.length === 0) throw errors.notFound(`model '${model}'`);
    const aliases = this.aliases(model);
    return rows.map((r) => this.toVersion(r, aliases, rows[0].version));
  }

  version(model: string, version: number): ModelVersion {
    const row = this.db.prepare(`SELECT * FROM model_versions WHERE model = ? AND version = ?`).get(model, version) as
      VersionRow | undefined;
    if (!row) throw errors.notFound(`model '${model}' version ${version}`);
    return this.toVersion(row, this.aliases(model), this.latest(model));
  }

  /** `iris` (production, else latest), `iris@alias`, `iris@latest`, `iris/3`. */
  resolve(ref: ModelRef, defaultAlias = 'production'): ModelVersion {
    const latest = this.latest(ref.name);
    if (typeof ref.selector === 'number') return this.version(ref.name, ref.selector);
    const alias = ref.selector ?? defaultAlias;
    if (alias === 'latest') return this.version(ref.name, latest);
    const target = this.aliases(ref.name)[alias];
    if (target !== undefined) return this.version(ref.name, target);
    if (ref.selector === null) return this.version(ref.name, latest);
    throw errors.notFound(`alias '${alias}' of model '${ref.name}'`);
  }

  setAlias(model: string, alias: string, version: number, by: string): AliasMove {
    checkName('model name', model);
    checkAlias(alias);
    return this.db
      .transaction((): AliasMove => {
        this.version(model, version); // throws if there is no such version
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
      })
      .immediate();
  }

  /** Removes an alias; the history keeps a row (removed, toVersion = the version it left). Null when it was not set. */
  removeAlias(model: string, alias: string, by: string): AliasMove | null {
    checkName('model name', model);
    checkAlias(alias);
    return this.db.transaction(() => this.unset(model, alias, by)).immediate();
  }

  /**
   * Promotes the version under alias `from` (the challenger) to alias `to` (production) and removes
   * `from`, in one transaction: a server polling the registry never sees the two apart.
   */
  promoteFrom(model: string, from: string, to: string, by: string): AliasMove[] {
    checkName('model name', model);
    checkAlias(from);
    checkAlias(to);
    return this.db
      .transaction((): AliasMove[] => {
        const aliases = this.aliases(model);
        const version = aliases[from];
        if (version === undefined) {
          this.latest(model); // an unknown model is a 404 of its own
          throw errors.noChallenger(model, from);
        }
        if (aliases[to] === version) throw errors.challengerIsChampion(model, from, to, version);
        const moved = this.setAlias(model, to, version, by);
        return [moved, this.unset(model, from, by)!];
      })
      .immediate();
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

  history(model: string): AliasMove[] {
    checkName('model name', model);
    const rows = this.db.prepare(`SELECT * FROM alias_history WHERE model = ? ORDER BY id`).all(model) as {
      id: number;
      model: string;
      alias: string;
      from_version: number | null;
      to_version: number;
      at: string;
      by: string;
      removed: number;
    }[];
    return rows.map((r) => ({
      id: r.id,
      model: r.model,
      alias: r.alias,
      fromVersion: r.from_version,
      toVersion: r.to_version,
      at: r.at,
      by: r.by,
      ...(r.removed ? { removed: true } : {}),
    }));
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

  private toVersion(r: VersionRow, aliases: Record<string, number>, latest: number): ModelVersion {
    const names = Object.entries(aliases)
      .filter(([, v]) => v === r.version)
      .map(([a]) => a);
    if (r.version === latest) names.push('latest');
    return {
      model: r.model,
      version: r.version,
      path: path.resolve(this.dataDir, r.path),
      sha256: r.sha256,
      signature: JSON.parse(r.signature),
      metrics: JSON.parse(r.metrics),
      params: JSON.parse(r.params),
      lineage: JSON.parse(r.lineage),
      reference: JSON.parse(r.reference),
      createdAt: r.created_at,
      aliases: names,
    };
  }

  private versionDir(model: string, version: number): string {
    return path.join(this.modelsDir, model, String(version));
  }

  private stage(onnxFile: string): { dir: string; sha256: string } {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(onnxFile);
    } catch (err) {
      throw errors.dataFile(onnxFile, `cannot read the model file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    const dir = path.join(this.modelsDir, STAGING, crypto.randomUUID());
    fs.mkdirSync(dir, { recursive: true });
    const target = path.join(dir, 'model.onnx');
    const fd = fs.openSync(target, 'w');
    try {
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return { dir, sha256 };
  }

  private stagingIdle(dir: string): boolean {
    // A staging folder younger than a minute may belong to a registration in progress.
    return Date.now() - fs.statSync(dir).mtimeMs > 60_000;
  }
}
