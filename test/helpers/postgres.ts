import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { needs } from './cli';

/**
 * A real PostgreSQL for tests: MLOPS_TEST_POSTGRES_URL (an admin URL) when set, else this machine's
 * Debian cluster (`pg_lsclusters`), started if it is down, with a test role `mlops_test` whose
 * password is random and kept in a 0600 file under the temp folder (no default credential). Each
 * test gets a database of its own, dropped afterwards.
 */
export interface TestDatabase {
  /** postgres://mlops_test:…@127.0.0.1:5432/<db> */
  url: string;
  name: string;
  /** The admin URL of the same cluster (the `postgres` database), for creating and dropping. */
  adminUrl: string;
  drop(): Promise<void>;
}

interface Cluster {
  version: string;
  name: string;
  port: number;
  status: string;
}

function clusters(): Cluster[] {
  const r = spawnSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [version, name, port, status] = line.trim().split(/\s+/);
      return { version, name, port: Number(port), status };
    });
}

/** Skip reason when no PostgreSQL can be had (fails instead under MLOPS_TEST_STRICT=1), else false. */
export function needsPostgres(): false | string {
  return needs(
    Boolean(process.env.MLOPS_TEST_POSTGRES_URL) || clusters().length > 0,
    'PostgreSQL (Debian postgresql, or MLOPS_TEST_POSTGRES_URL)',
  );
}

/** Runs SQL as the cluster's superuser over its Unix socket (peer authentication as `postgres`). */
export function psqlAsPostgres(cluster: { port: number }, sql: string, db = 'postgres'): string {
  return execFileSync(
    'runuser',
    ['-u', 'postgres', '--', 'psql', '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-p', String(cluster.port), '-d', db, '-c', sql],
    {
      encoding: 'utf8',
      cwd: '/',
    },
  );
}

/** Starts the local cluster if it is down; returns it. */
export function localCluster(): Cluster {
  const c = clusters()[0];
  if (!c) throw new Error('no PostgreSQL cluster on this machine (pg_lsclusters lists none)');
  if (c.status !== 'online') {
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', c.version, c.name, 'start'], { stdio: 'inherit' });
  }
  return { ...c, status: 'online' };
}

function testPassword(): string {
  const file = path.join(os.tmpdir(), 'mlops-test-postgres-password');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    // Written aside and renamed into place: a concurrent test process reads a whole password or none.
    const tmp = `${file}.${process.pid}`;
    fs.writeFileSync(tmp, crypto.randomBytes(18).toString('base64url'), { mode: 0o600 });
    try {
      fs.linkSync(tmp, file); // fails if another process won: theirs is used
    } catch {
      /* another process wrote it first */
    }
    fs.rmSync(tmp, { force: true });
    return fs.readFileSync(file, 'utf8').trim();
  }
}

let roleReady: { adminUrl: string; base: string } | null = null;

function prepareLocal(): { adminUrl: string; base: string } {
  if (roleReady) return roleReady;
  const c = localCluster();
  const password = testPassword();
  psqlAsPostgres(
    c,
    `DO $$ BEGIN
       IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mlops_test') THEN CREATE ROLE mlops_test LOGIN SUPERUSER; END IF;
     END $$; ALTER ROLE mlops_test PASSWORD '${password}'`,
  );
  const base = `postgres://mlops_test:${encodeURIComponent(password)}@127.0.0.1:${c.port}`;
  roleReady = { adminUrl: `${base}/postgres`, base };
  return roleReady;
}

/** A fresh, empty database for one test. */
export async function createTestDatabase(label = 'mlops'): Promise<TestDatabase> {
  const { Client } = await import('pg');
  let adminUrl: string;
  let base: string;
  if (process.env.MLOPS_TEST_POSTGRES_URL) {
    adminUrl = process.env.MLOPS_TEST_POSTGRES_URL;
    const u = new URL(adminUrl);
    u.pathname = '';
    base = u.toString().replace(/\/$/, '');
  } else {
    ({ adminUrl, base } = prepareLocal());
  }
  const name = `${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: `${base}/${name}`,
    name,
    adminUrl,
    async drop() {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
