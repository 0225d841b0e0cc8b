import type Database from 'better-sqlite3';
import { migrateReference, migrateSignature } from '../../signature';
import { openSqlite, type Migration } from '../../sqlite';

export type Db = Database.Database;

// Each entry moves the schema one version up; PRAGMA user_version records how far a file is.
const MIGRATIONS: Migration[] = [
  `
  CREATE TABLE models (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
  );
  CREATE TABLE model_versions (
    model TEXT NOT NULL REFERENCES models(name),
    version INTEGER NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    signature TEXT NOT NULL,
    metrics TEXT NOT NULL,
    params TEXT NOT NULL,
    lineage TEXT NOT NULL,
    reference TEXT NOT NULL,
    run_id TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (model, version)
  );
  CREATE TRIGGER model_versions_immutable BEFORE UPDATE ON model_versions
    BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END;
  CREATE TABLE aliases (
    model TEXT NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (model, alias),
    FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
  );
  CREATE TABLE alias_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    alias TEXT NOT NULL,
    from_version INTEGER,
    to_version INTEGER NOT NULL,
    at TEXT NOT NULL,
    by TEXT NOT NULL
  );
  CREATE TRIGGER alias_history_no_update BEFORE UPDATE ON alias_history
    BEGIN SELECT RAISE(ABORT, 'alias history is append-only'); END;
  CREATE TRIGGER alias_history_no_delete BEFORE DELETE ON alias_history
    BEGIN SELECT RAISE(ABORT, 'alias history is append-only'); END;
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL,
    pipeline_file TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    run_dir TEXT NOT NULL,
    pid INTEGER,
    git TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    duration_ms REAL,
    registered_model TEXT,
    registered_version INTEGER
  );
  CREATE INDEX runs_created ON runs(created_at);
  CREATE TABLE run_steps (
    run_id TEXT NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    idx INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    duration_ms REAL,
    log_file TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (run_id, name)
  );
  CREATE TABLE run_metrics (
    run_id TEXT NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    step TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (run_id, name)
  );
  CREATE TABLE run_artifacts (
    run_id TEXT NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
  );
  `,
  typedSignatures,
  // 3: what the DAG view and the step cache need of a step (its kind, its needs, the run it reused,
  // its notebook copy, the step that wrote each artifact), and why a run was started.
  `
  ALTER TABLE runs ADD COLUMN trigger TEXT NOT NULL DEFAULT 'manual';
  ALTER TABLE run_steps ADD COLUMN kind TEXT NOT NULL DEFAULT 'function';
  ALTER TABLE run_steps ADD COLUMN needs TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE run_steps ADD COLUMN cached_from TEXT;
  ALTER TABLE run_steps ADD COLUMN notebook TEXT;
  ALTER TABLE run_artifacts ADD COLUMN step TEXT;
  `,
  // 4: the step cache (common/registry/step-cache.ts): what each finished step of a run depended on
  // and produced, so that a later run can reuse it when all of that still matches.
  `
  CREATE TABLE step_cache (
    run_id TEXT NOT NULL REFERENCES runs(id),
    step TEXT NOT NULL,
    pipeline_file TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    upstream_hash TEXT NOT NULL,
    params TEXT NOT NULL,
    files TEXT NOT NULL,
    artifact_reads TEXT NOT NULL,
    artifacts TEXT NOT NULL,
    value TEXT NOT NULL,
    outputs_hash TEXT NOT NULL,
    origin_run TEXT NOT NULL,
    PRIMARY KEY (run_id, step)
  );
  CREATE INDEX step_cache_lookup ON step_cache(pipeline_file, step, code_hash, upstream_hash);
  `,
  // 5: an alias can be removed (the challenger, once promoted): the history keeps a row for it, whose
  // to_version is the version the alias left. The append-only triggers of alias_history stay.
  `
  ALTER TABLE alias_history ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;
  `,
  // 6: the host a run's runner runs on (runnerHost): recoverInterrupted judges a pid only on its own
  // host. Null for older runs, which count as this host's (what they were judged as before).
  `
  ALTER TABLE runs ADD COLUMN host TEXT;
  `,
  // 7: leases (common/registry/leases.ts): a name held by one holder until it expires, so that work
  // that must happen once (a runner alive on another host, one retraining per alert) is claimed.
  `
  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `,
];

/**
 * 1 → 2: signatures gain types, inputs and a task (common/signature.ts migrateSignature), references
 * a kind per feature. Versions are immutable to everything else: the trigger is lifted for this
 * rewrite only, inside the migration's transaction, and put back as it was.
 */
function typedSignatures(db: Db): void {
  db.exec('DROP TRIGGER model_versions_immutable');
  const rows = db.prepare('SELECT model, version, signature, reference FROM model_versions').all() as {
    model: string;
    version: number;
    signature: string;
    reference: string;
  }[];
  const update = db.prepare('UPDATE model_versions SET signature = ?, reference = ? WHERE model = ? AND version = ?');
  for (const r of rows) {
    const signature = JSON.stringify(migrateSignature(JSON.parse(r.signature)));
    const reference = JSON.stringify(migrateReference(JSON.parse(r.reference)));
    update.run(signature, reference, r.model, r.version);
  }
  db.exec(`CREATE TRIGGER model_versions_immutable BEFORE UPDATE ON model_versions
    BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END;`);
}

/** The schema version this code brings a file to. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export const DB_FILE = 'mlops.sqlite';

/** Opens (creating and migrating if needed) a registry file. */
export function openDatabase(file: string): Db {
  return openSqlite(file, MIGRATIONS);
}
