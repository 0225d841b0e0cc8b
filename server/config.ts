import fs from 'node:fs';
import { runLeaseMs } from '../common/registry/leases';
import { artifactDir } from '../common/registry/local-artifacts';
import { dataDir as defaultDataDir, defaultPipeline } from '../common/config';
import { errors } from '../common/errors';
import { gitInfo } from '../common/git';
import { parseModelRef } from '../common/model-uri';
import { alertsFilePath } from './alerts/config-file';
import type { DatabaseReadiness } from './monitoring/database-health';
import { parseAutoPromote, type AutoPromoteRule } from './loop/auto-promote';
import { loadChallengerSettings, type ChallengerSettings } from './loop/challenger-config';

/** A protected scope accepts HTTP basic credentials and/or a bearer token; neither set = open. */
export interface ScopeAuth {
  username?: string;
  password?: string;
  token?: string;
}

export type Scope = 'predict' | 'metrics' | 'api';
/**
 * The scopes that are open when no credential is set. POST /feedback (its own MLOPS_FEEDBACK_*
 * credentials) also accepts the data dir's api-token, as /api does, so it is never open: it writes
 * what retraining learns from.
 */
const SCOPES: Scope[] = ['predict', 'metrics', 'api'];

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** MLOPS_DATABASE_URL: '' (SQLite in the data folder), sqlite:<file> or postgres://… — the registry's and the prediction log's database. */
  databaseUrl: string;
  /** Where model files live (MLOPS_ARTIFACT_DIR, else the data folder). */
  artifactDir: string;
  /** Model to serve; null: the only model in the registry (waits for one to appear). */
  model: string | null;
  /** Alias to follow, or a version to pin; null: `production`, else `latest`. */
  selector: string | number | null;
  auth: Record<Scope | 'feedback', ScopeAuth>;
  /** Allowed CORS origins; empty: same-origin only (no CORS headers). */
  corsOrigins: string[];
  /** Host names answered besides loopback ones (MLOPS_ALLOWED_HOSTS), e.g. a Codespace's forwarded name. */
  allowedHosts: string[];
  bodyLimit: number;
  maxRows: number;
  logPredictions: boolean;
  predictionLog: { flushIntervalMs: number; maxRows?: number; maxAgeDays?: number; redact: string[]; qualityWindow: number };
  driftWindow: number;
  /** Micro-batching of concurrent requests into one session.run; null: off. */
  batch: { maxRows: number; maxWaitMs: number } | null;
  /** How often the registry is checked for alias moves and new versions. */
  pollMs: number;
  /** How often the registry's database is pinged for /readyz and mlops_database_up (MLOPS_DB_PING_MS). */
  databasePingMs: number;
  /** Whether a replica whose database is unreachable stays ready (MLOPS_READY_DATABASE; database-health.ts). */
  readyDatabase: DatabaseReadiness;
  /**
   * How often runs whose runner is gone are looked for (app.ts recoverRuns): half a run's lease
   * (MLOPS_RUN_LEASE_SEC), at most 15 s, so that a run on another host is ended within 1.5 leases of its runner's death.
   */
  runRecoveryMs: number;
  allowInsecureBind: boolean;
  git: { branch: string; head: string };
  logLevel: string;
  requestLogging: boolean;
  defaultPipeline: string;
  /** The alert rules' file (MLOPS_ALERTS_FILE, default ./mlops-alerts.json): server/alerts. */
  alertsFile: string;
  /** Retraining (server/loop/retrain.ts): started by alerts when onAlert, at most once per cool-down. */
  retrain: { onAlert: boolean; cooldownSec: number; autoPromote: AutoPromoteRule | null };
  challenger: ChallengerSettings;
}

export interface ServeFlags {
  host?: string;
  port?: number;
  model?: string;
  alias?: string;
  version?: number;
  allowInsecureBind?: boolean;
}

/** Reads the environment (and command-line flags, which win). Secrets come from env or *_FILE files only. */
export function loadConfig(flags: ServeFlags = {}, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const git = gitInfo(process.cwd(), env);
  const number = (name: string, fallback: number, min = 0): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw errors.badOption(name, `a number >= ${min}`, raw);
    return n;
  };
  const optional = (name: string): number | undefined => (env[name] ? number(name, 0, 1) : undefined);
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name]?.toLowerCase();
    if (raw === undefined || raw === '') return fallback;
    if (['1', 'true', 'yes'].includes(raw)) return true;
    if (['0', 'false', 'no'].includes(raw)) return false;
    throw errors.badOption(name, 'true or false', env[name]!);
  };
  // MLOPS_MODEL may be a model URI (models:/iris@production) that names the version itself; the
  // explicit flags and the MLOPS_MODEL_ALIAS/VERSION settings still win over it.
  const fromEnv = env.MLOPS_MODEL ? parseModelRef(env.MLOPS_MODEL) : null;
  const version = flags.version ?? (env.MLOPS_MODEL_VERSION ? number('MLOPS_MODEL_VERSION', 1, 1) : undefined);
  return {
    host: flags.host ?? env.MLOPS_HOST ?? '127.0.0.1',
    port: flags.port ?? number('MLOPS_PORT', 8000),
    dataDir: defaultDataDir(env),
    databaseUrl: env.MLOPS_DATABASE_URL?.trim() ?? '',
    artifactDir: artifactDir(defaultDataDir(env), env),
    model: flags.model ?? fromEnv?.name ?? null,
    selector: version ?? flags.alias ?? env.MLOPS_MODEL_ALIAS ?? (flags.model === undefined ? fromEnv?.selector : null) ?? null,
    auth: {
      predict: scope(env, 'PREDICT'),
      metrics: scope(env, 'METRICS'),
      api: scope(env, 'MLOPS_API'),
      feedback: scope(env, 'MLOPS_FEEDBACK'),
    },
    corsOrigins: list(env.MLOPS_CORS_ORIGINS),
    allowedHosts: list(env.MLOPS_ALLOWED_HOSTS),
    bodyLimit: number('MLOPS_BODY_LIMIT', 1024 * 1024, 1),
    maxRows: number('MLOPS_MAX_ROWS', 10_000, 1),
    logPredictions: bool('LOG_PREDICTIONS', true),
    predictionLog: {
      flushIntervalMs: number('MLOPS_LOG_FLUSH_MS', 200, 10),
      maxRows: optional('MLOPS_LOG_MAX_ROWS'),
      maxAgeDays: optional('MLOPS_LOG_MAX_AGE_DAYS'),
      redact: list(env.MLOPS_LOG_REDACT),
      qualityWindow: number('MLOPS_QUALITY_WINDOW', 500, 1),
    },
    driftWindow: number('MLOPS_DRIFT_WINDOW', 1000, 1),
    batch: bool('MLOPS_BATCHING', true)
      ? { maxRows: number('MLOPS_BATCH_MAX_ROWS', 256, 1), maxWaitMs: number('MLOPS_BATCH_WAIT_MS', 0, 0) }
      : null,
    pollMs: number('MLOPS_POLL_MS', 1000, 50),
    databasePingMs: number('MLOPS_DB_PING_MS', 2000, 100),
    readyDatabase: readyDatabase(env.MLOPS_READY_DATABASE),
    runRecoveryMs: Math.min(15_000, runLeaseMs(env) / 2),
    allowInsecureBind: flags.allowInsecureBind ?? bool('MLOPS_ALLOW_INSECURE_BIND', false),
    git: { branch: git.branch ?? 'unknown', head: git.commit ?? 'unknown' },
    logLevel: env.MLOPS_LOG_LEVEL ?? 'info',
    requestLogging: bool('MLOPS_REQUEST_LOG', true),
    defaultPipeline: defaultPipeline(env),
    alertsFile: alertsFilePath(env),
    retrain: {
      onAlert: bool('MLOPS_RETRAIN_ON_ALERT', false),
      cooldownSec: number('MLOPS_RETRAIN_COOLDOWN_SEC', 900),
      autoPromote: parseAutoPromote(env.MLOPS_AUTO_PROMOTE),
    },
    challenger: loadChallengerSettings(env),
  };
}

function readyDatabase(raw: string | undefined): DatabaseReadiness {
  const value = raw?.trim() || 'once';
  if (value !== 'once' && value !== 'always') throw errors.badOption('MLOPS_READY_DATABASE', 'once or always', value);
  return value;
}

/** A comma-separated setting as a list, blanks dropped. */
function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function scope(env: NodeJS.ProcessEnv, prefix: string): ScopeAuth {
  const secret = (name: string): string | undefined => {
    const file = env[`${prefix}_${name}_FILE`];
    if (file) {
      try {
        return fs.readFileSync(file, 'utf8').trim() || undefined;
      } catch (err) {
        throw errors.unreadable(`${prefix}_${name}_FILE`, `cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
      }
    }
    return env[`${prefix}_${name}`] || undefined;
  };
  const auth: ScopeAuth = { username: secret('USERNAME'), password: secret('PASSWORD'), token: secret('TOKEN') };
  if ((auth.username === undefined) !== (auth.password === undefined)) {
    throw errors.halfCredentials(prefix);
  }
  return auth;
}

export function isProtected(auth: ScopeAuth): boolean {
  return auth.password !== undefined || auth.token !== undefined;
}

export function everyScopeProtected(config: ServerConfig): boolean {
  return SCOPES.every((s) => isProtected(config.auth[s]));
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Binding beyond loopback with an open scope is refused unless explicitly allowed. */
export function checkExposure(config: ServerConfig): void {
  if (LOOPBACK.test(config.host) || config.allowInsecureBind) return;
  const open = SCOPES.filter((s) => !isProtected(config.auth[s]));
  if (open.length > 0) {
    throw errors.insecureBind(config.host, open);
  }
}
