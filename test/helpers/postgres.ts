import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
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

/** A TCP proxy in front of PostgreSQL (pgProxy): a network between one client and the database that a test can break. */
export interface PgProxy {
  /** The database's URL through the proxy. */
  url: string;
  /**
   * Stops forwarding for every connection whose startup message contains `text` (the application_name
   * is sent in clear there) without closing it, as a partition does (no FIN). Returns how many.
   */
  freeze(text: string): number;
  /** Drops every connection and refuses new ones (their sockets are closed at once) until restore(). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function pgProxy(target: URL): Promise<PgProxy> {
  const conns: { startup: string; frozen: boolean }[] = [];
  const sockets = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    const conn = { startup: '', frozen: false };
    conns.push(conn);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ]) {
      sockets.add(from);
      from.on('data', (d: Buffer) => {
        if (from === client && conn.startup === '') conn.startup = d.toString('latin1');
        if (!conn.frozen) to.write(d);
      });
      from.on('error', () => to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target.toString());
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    freeze(text) {
      const hit = conns.filter((c) => !c.frozen && c.startup.includes(text));
      for (const c of hit) c.frozen = true;
      return hit.length;
    },
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      cut = false;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
