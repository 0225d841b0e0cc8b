// The scale-out topology on one machine (issue #16, docs/scaling-out.md): N real `mlops serve`
// processes on 127.0.0.1 ports behind Debian's haproxy, on one registry (a shared SQLite data folder
// today, PostgreSQL with MLOPS_DATABASE_URL), and a keep-alive load generator that records which
// replica answered every request. Used by test/integration/scale-out.test.ts and bench/scale-out-*.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { MLOPS, needs, ROOT, tempDataDir, type CliResult } from './cli';
import { freePort } from './net';
import { createTestDatabase } from './postgres';
import Database from 'better-sqlite3';
import { PREDICTIONS_DB_FILE } from '../../server/prediction-log';
import { readLog } from './prediction-log';
import { SAMPLE } from './server';

export const HAPROXY = '/usr/sbin/haproxy';
/** The PostgreSQL prediction log's table (server/prediction-log/postgres.ts), named as in SQLite. */
export const PG_PREDICTION_LOG_TABLE = 'predictions';

/** Where the registry and the prediction log live. */
export type Backend = { kind: 'sqlite' } | { kind: 'postgres'; url: string };

export interface TopologyOptions {
  replicas: number;
  backend: Backend;
  /** What every replica serves (the `mlops serve` argument), e.g. iris@production. */
  model: string;
  /** Extra environment for every replica (e.g. MLOPS_POLL_MS). */
  env?: NodeJS.ProcessEnv;
}

export interface Replica {
  /** haproxy's name for it (r0, r1, …), which it sends back in x-served-by. */
  name: string;
  port: number;
  url: string;
  dataDir: string;
  child: ChildProcess | null;
  /** Its stderr so far (the server's log lines), for failure messages. */
  stderr: string;
}

/** True when Debian's haproxy is installed (.ci/run installs it). */
export function haproxyAvailable(): boolean {
  return fs.existsSync(HAPROXY);
}

/** Kills a child's whole process group (children are started detached, as group leaders). */
function killGroup(child: ChildProcess | null, signal: NodeJS.Signals): void {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

// Every group this module started, killed when the test process exits however it exits: a failed
// assertion or a crash must leave no stray server or haproxy holding a port.
const live = new Set<ChildProcess>();
const liveClusters = new Set<PrivateCluster>();
process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
  for (const cluster of liveClusters) cluster.destroy();
});

function startGroup(command: string, args: string[], env: NodeJS.ProcessEnv, onStderr: (text: string) => void): ChildProcess {
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.stderr?.on('data', (d: Buffer) => onStderr(d.toString()));
  return child;
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, failed?: () => string | null): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const reason = failed?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    if (await probe()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const getOk = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(2000) }).then(
    (res) => res.status === 200,
    () => false,
  );

/** What /readyz of one replica says: the served version when ready. */
export async function readiness(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The haproxy configuration: round robin over the replicas, health-checked on /readyz, retrying idempotent predictions. */
export function haproxyConfig(port: number, statsPort: number, servers: { name: string; port: number }[]): string {
  return [
    'global',
    '  maxconn 2000',
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout client 30s',
    '  timeout server 10s',
    '  timeout http-request 10s',
    '  timeout http-keep-alive 30s',
    // A killed replica's refused connections, reset in-flight requests and stalls are retried on
    // another server (`redispatch 1`: on every retry, not only the last). /predict is idempotent, and
    // the body is buffered so that it can be sent again.
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response response-timeout',
    '  option http-buffer-request',
    'frontend predict',
    `  bind 127.0.0.1:${port}`,
    '  default_backend replicas',
    'backend replicas',
    '  balance roundrobin',
    // HTTP/1.1 with a loopback Host: the server's host guard refuses requests without one.
    '  option httpchk',
    '  http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host 127.0.0.1',
    '  http-check expect status 200',
    // Which replica answered (the server has no header of its own for it): haproxy's server name.
    '  http-response set-header x-served-by %s',
    '  default-server inter 200ms fall 2 rise 1',
    ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check`),
    'listen stats',
    `  bind 127.0.0.1:${statsPort}`,
    '  stats enable',
    '  stats uri /stats',
    '',
  ].join('\n');
}

/**
 * N replicas and haproxy. With SQLite every replica and every CLI command share one data folder (its
 * registry file is polled for alias moves). With PostgreSQL each replica has a data folder of its own
 * (local files only), as on separate hosts, and they share the database and MLOPS_ARTIFACT_DIR.
 */
export class Topology {
  readonly root = tempDataDir('mlops-topology-');
  readonly replicas: Replica[] = [];
  balancerUrl = '';
  statsUrl = '';
  private haproxy: ChildProcess | null = null;
  private haproxyStderr = '';

  constructor(readonly options: TopologyOptions) {}

  /** The shared artifact folder (PostgreSQL), or the shared data folder (SQLite). */
  get sharedDir(): string {
    return path.join(this.root, this.options.backend.kind === 'sqlite' ? 'data' : 'artifacts');
  }

  /** The environment of a process of this topology; `host` names its own data folder under PostgreSQL. */
  envFor(host: string): NodeJS.ProcessEnv {
    const { backend } = this.options;
    if (backend.kind === 'sqlite') return { MLOPS_DATA_DIR: this.sharedDir };
    return { MLOPS_DATA_DIR: path.join(this.root, host), MLOPS_DATABASE_URL: backend.url, MLOPS_ARTIFACT_DIR: this.sharedDir };
  }

  /** Runs an `mlops` command as a process of this topology (a trainer, an operator), without blocking the event loop. */
  cli(args: string[], host = 'operator'): Promise<CliResult> {
    const env = { ...process.env, ...this.envFor(host) };
    fs.mkdirSync(env.MLOPS_DATA_DIR!, { recursive: true });
    const child = spawn(process.execPath, [MLOPS, ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  }

  /** The same, failing with its stderr unless it exits 0. */
  async cliOk(args: string[], host = 'operator'): Promise<CliResult> {
    const r = await this.cli(args, host);
    if (r.code !== 0) throw new Error(`mlops ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r;
  }

  /** Registers iris v1 (the default trainer) and v2 (logistic regression), and points production at v1. */
  async trainIris(): Promise<void> {
    await this.cliOk(['train', '-q'], 'trainer');
    await this.cliOk(['train', '-q', '--param', 'trainer=logistic_regression'], 'trainer');
    await this.cliOk(['models', 'promote', 'iris', '1']);
  }

  async start(): Promise<void> {
    fs.mkdirSync(this.sharedDir, { recursive: true });
    for (let i = 0; i < this.options.replicas; i++) {
      const name = `r${i}`;
      const port = await freePort();
      const dataDir = this.envFor(name).MLOPS_DATA_DIR!;
      fs.mkdirSync(dataDir, { recursive: true });
      this.replicas.push({ name, port, url: `http://127.0.0.1:${port}`, dataDir, child: null, stderr: '' });
    }
    try {
      await Promise.all(this.replicas.map((_, i) => this.startReplica(i)));
      await this.startHaproxy();
    } catch (err) {
      this.kill();
      throw err;
    }
  }

  /** Starts (or restarts, on the same port and folder) replica i and waits for its /readyz. */
  async startReplica(i: number): Promise<void> {
    const r = this.replicas[i];
    const env = {
      ...process.env,
      ...this.envFor(r.name),
      MLOPS_PORT: String(r.port),
      MLOPS_LOG_FLUSH_MS: '50',
      MLOPS_REQUEST_LOG: 'false',
      ...this.options.env,
    };
    r.child = startGroup(process.execPath, [MLOPS, 'serve', this.options.model], env, (t) => (r.stderr = (r.stderr + t).slice(-20_000)));
    const child = r.child;
    await waitUntil(
      `replica ${r.name} /readyz`,
      () => getOk(`${r.url}/readyz`),
      60_000,
      () => (child.exitCode !== null ? `it exited with code ${child.exitCode}:\n${r.stderr}` : null),
    );
  }

  private async startHaproxy(): Promise<void> {
    const port = await freePort();
    const statsPort = await freePort();
    const file = path.join(this.root, 'haproxy.cfg');
    fs.writeFileSync(file, haproxyConfig(port, statsPort, this.replicas));
    const check = spawnSync(HAPROXY, ['-c', '-q', '-f', file], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`haproxy refused its configuration: ${check.stderr}${check.stdout}`);
    this.balancerUrl = `http://127.0.0.1:${port}`;
    this.statsUrl = `http://127.0.0.1:${statsPort}/stats`;
    // -db: foreground, no daemon; its group dies with the test as the replicas' do.
    this.haproxy = startGroup(
      HAPROXY,
      ['-db', '-f', file],
      process.env,
      (t) => (this.haproxyStderr = (this.haproxyStderr + t).slice(-20_000)),
    );
    const child = this.haproxy;
    await waitUntil(
      'haproxy to see every replica up',
      async () => (await this.serverStates()).every((s) => s === 'UP'),
      30_000,
      () => (child.exitCode !== null ? `haproxy exited with code ${child.exitCode}:\n${this.haproxyStderr}` : null),
    );
  }

  /**
   * Polls every replica's /readyz (directly, not through the balancer) until all serve `version`;
   * returns the milliseconds from the call, which the caller makes right after the alias move's commit.
   */
  async untilAllServe(version: number, timeoutMs = 15_000): Promise<number> {
    const since = Date.now();
    const pending = new Set(this.replicas.map((r) => r.url));
    for (;;) {
      for (const url of [...pending]) {
        const { body } = await readiness(url).catch(() => ({ body: {} as Record<string, unknown> }));
        if (body.version === version) pending.delete(url);
      }
      if (pending.size === 0) return Date.now() - since;
      if (Date.now() - since > timeoutMs) throw new Error(`replicas ${[...pending].join(', ')} still not serving version ${version}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** haproxy's stats CSV for the replicas' backend: one record per server, and BACKEND, by column name. */
  private async stats(): Promise<Map<string, Record<string, string>>> {
    const text = await fetch(`${this.statsUrl};csv`, { signal: AbortSignal.timeout(2000) }).then(
      (res) => res.text(),
      () => '',
    );
    const [header = [], ...rows] = text.split('\n').map((line) => line.split(','));
    const names = header.map((h) => h.replace(/^# /, ''));
    const out = new Map<string, Record<string, string>>();
    for (const row of rows) {
      if (row[0] === 'replicas') out.set(row[1], Object.fromEntries(names.map((n, i) => [n, row[i]])));
    }
    return out;
  }

  /** haproxy's view of each replica (UP, DOWN, …), in replica order. */
  async serverStates(): Promise<string[]> {
    const stats = await this.stats();
    return this.replicas.map((r) => stats.get(r.name)?.status ?? 'unknown');
  }

  /** The backend's counters: wretr (retries), wredis (redispatches), econ, eresp, … */
  async backendStats(): Promise<Record<string, string>> {
    return (await this.stats()).get('BACKEND') ?? {};
  }

  /** kill -9 of replica i (its whole process group), as a crashed host. */
  async killReplica(i: number): Promise<void> {
    const child = this.replicas[i].child;
    if (!child) return;
    killGroup(child, 'SIGKILL');
    await exited(child);
  }

  /** Stops replica i as Kubernetes does (SIGTERM: it drains and flushes its prediction log). */
  async stopReplica(i: number): Promise<void> {
    const child = this.replicas[i].child;
    if (!child) return;
    killGroup(child, 'SIGTERM');
    await exited(child);
  }

  /** Stops every replica gracefully (each flushes its prediction log); haproxy keeps running. */
  async stopReplicas(): Promise<void> {
    await Promise.all(this.replicas.map((_, i) => this.stopReplica(i)));
  }

  /** Stops everything gracefully; what does not stop within 15 s is killed. */
  async stop(): Promise<void> {
    killGroup(this.haproxy, 'SIGTERM');
    const all = Promise.all([this.stopReplicas(), this.haproxy ? exited(this.haproxy) : null]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 15_000)));
    const outcome = await Promise.race([all, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.kill();
  }

  /** SIGKILL of every group (the after hook's last resort). */
  kill(): void {
    killGroup(this.haproxy, 'SIGKILL');
    for (const r of this.replicas) killGroup(r.child, 'SIGKILL');
  }

  /** Removes the topology's folders (after stop()). */
  remove(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** One request of the load generator: status 0 is a transport error (reset, refused, timeout). */
export interface LoadRecord {
  requestId: string;
  status: number;
  servedBy: string | null;
  version: string | null;
  error?: string;
  startedAt: number;
  endedAt: number;
}

export interface RunningLoad {
  records: LoadRecord[];
  /** Stops issuing requests, waits for those in flight, and returns every record. */
  stop(): Promise<LoadRecord[]>;
}

let loadSeq = 0;

/**
 * `connections` keep-alive clients posting `body` to `${url}/predict` back to back, each request with a
 * request id of its own (x-request-id, which the server keeps and logs), until stop().
 */
export function startLoad(url: string, opts: { connections?: number; body?: unknown } = {}): RunningLoad {
  const connections = opts.connections ?? 32;
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const body = JSON.stringify(opts.body ?? SAMPLE);
  const target = new URL('/predict', url);
  const records: LoadRecord[] = [];
  const run = `${process.pid}-${++loadSeq}-${Date.now().toString(36)}`;
  let n = 0;
  let stopping = false;

  const once = () =>
    new Promise<LoadRecord>((resolve) => {
      const requestId = `load-${run}-${++n}`;
      const startedAt = Date.now();
      const done = (fields: Partial<LoadRecord>) =>
        resolve({ requestId, status: 0, servedBy: null, version: null, startedAt, endedAt: Date.now(), ...fields });
      const req = http.request(
        target,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': requestId },
          timeout: 15_000,
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            done({
              status: res.statusCode ?? 0,
              servedBy: (res.headers['x-served-by'] as string | undefined) ?? null,
              version: (res.headers['x-model-version'] as string | undefined) ?? null,
            }),
          );
          res.on('error', (err) => done({ error: err.message }));
        },
      );
      req.on('timeout', () => req.destroy(new Error('client timeout')));
      req.on('error', (err) => done({ error: err.message }));
      req.end(body);
    });

  const worker = async () => {
    while (!stopping) records.push(await once());
  };
  const workers = Promise.all(Array.from({ length: connections }, worker));
  return {
    records,
    async stop() {
      stopping = true;
      await workers;
      agent.destroy();
      return records;
    },
  };
}

/** A readable summary of the failed records (first few), for assertion messages. */
export function failures(records: LoadRecord[]): string {
  const bad = records.filter((r) => r.status !== 200);
  const sample = bad.slice(0, 5).map((r) => `${r.status} ${r.error ?? ''} via ${r.servedBy ?? '?'}`);
  return `${bad.length} of ${records.length} failed${sample.length ? `: ${sample.join('; ')}` : ''}`;
}

/**
 * True when this build has the PostgreSQL backend: `mlops db migrate` and `mlops db status` both exit 0
 * against `url` (before it lands, `mlops db` is an unknown command and MLOPS_DATABASE_URL is ignored,
 * which would silently test SQLite).
 */
export function postgresBackendAvailable(url: string): boolean {
  const dir = tempDataDir('mlops-db-probe-');
  try {
    const env = { ...process.env, MLOPS_DATA_DIR: dir, MLOPS_DATABASE_URL: url };
    return ['migrate', 'status'].every(
      (cmd) => spawnSync(process.execPath, [MLOPS, 'db', cmd], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 }).status === 0,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A fresh PostgreSQL database as a topology's backend, or the reason there is none (under
 * MLOPS_TEST_STRICT=1 a missing backend throws instead). Drop it with cleanup().
 */
export async function postgresBackend(label: string): Promise<{ backend: Backend; cleanup: () => Promise<void> } | string> {
  const db = await createTestDatabase(label);
  // Before the backend lands, MLOPS_DATABASE_URL is ignored: this would silently be SQLite again.
  const missing = needs(postgresBackendAvailable(db.url), 'the PostgreSQL registry backend (`mlops db migrate` / `mlops db status`)');
  if (missing) {
    await db.drop();
    return missing;
  }
  return { backend: { kind: 'postgres', url: db.url }, cleanup: () => db.drop() };
}

async function withPg<T>(url: string, use: (client: import('pg').Client) => Promise<T>): Promise<T> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** The request ids among `ids` that the topology's prediction log holds (committed rows). */
export async function loggedRequestIds(topology: Topology, ids: string[]): Promise<Set<string>> {
  const { backend } = topology.options;
  if (backend.kind === 'sqlite') {
    const wanted = new Set(ids);
    return new Set(
      readLog(topology.sharedDir)
        .map((e) => e.requestId)
        .filter((id) => wanted.has(id)),
    );
  }
  const res = await withPg(backend.url, (c) =>
    c.query<{ request_id: string }>(`SELECT DISTINCT request_id FROM ${PG_PREDICTION_LOG_TABLE} WHERE request_id = ANY($1::text[])`, [ids]),
  );
  return new Set(res.rows.map((r) => r.request_id));
}

/** Rows in the topology's prediction log. */
export async function loggedRowCount(topology: Topology): Promise<number> {
  const { backend } = topology.options;
  if (backend.kind === 'sqlite') {
    const db = new Database(path.join(topology.sharedDir, PREDICTIONS_DB_FILE), { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT count(*) FROM predictions').pluck().get() as number;
    } finally {
      db.close();
    }
  }
  const res = await withPg(backend.url, (c) => c.query<{ n: string }>(`SELECT count(*) AS n FROM ${PG_PREDICTION_LOG_TABLE}`));
  return Number(res.rows[0].n);
}

/** A replica's mlops_prediction_log_rows_dropped_total (its /metrics). */
export async function droppedLogRows(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('mlops_prediction_log_rows_dropped_total'));
  return line ? Number(line.split(/\s+/).at(-1)) : 0;
}

/**
 * A PostgreSQL server of its own (initdb in a temporary folder, on a free loopback port), for a test
 * that stops the database: stopping the machine's shared cluster would fail other tests running in
 * parallel. Password authentication with a random password (no default credential). Runs as the
 * `postgres` user when the tests run as root (PostgreSQL refuses to), as the current user otherwise.
 */
export class PrivateCluster {
  private constructor(
    private readonly bin: string,
    private readonly dir: string,
    readonly port: number,
    /** Superuser URL of the `postgres` database. */
    readonly adminUrl: string,
  ) {}

  /** Skip reason when no PostgreSQL server binaries are installed, else false. */
  static missing(): false | string {
    return needs(PrivateCluster.binDir() !== null, 'PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin)');
  }

  private static binDir(): string | null {
    const base = '/usr/lib/postgresql';
    const versions = fs.existsSync(base) ? fs.readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
    const found = versions.map((v) => path.join(base, v, 'bin')).find((d) => fs.existsSync(path.join(d, 'initdb')));
    return found ?? null;
  }

  static async create(): Promise<PrivateCluster> {
    const bin = PrivateCluster.binDir();
    if (!bin) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
    const dir = tempDataDir('mlops-pg-private-');
    const password = crypto.randomBytes(18).toString('base64url');
    fs.writeFileSync(path.join(dir, 'pwfile'), password, { mode: 0o600 });
    if (process.getuid?.() === 0) {
      const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
      const [uid, gid] = [id('-u'), id('-g')];
      if (uid.status !== 0 || gid.status !== 0)
        throw new Error('the tests run as root, and there is no postgres user to run PostgreSQL as');
      for (const f of [dir, path.join(dir, 'pwfile')]) fs.chownSync(f, Number(uid.stdout), Number(gid.stdout));
    }
    const port = await freePort();
    const ready = new PrivateCluster(bin, dir, port, `postgres://mlops:${password}@127.0.0.1:${port}/postgres`);
    liveClusters.add(ready);
    try {
      ready.run('initdb', ['-D', ready.data, '-U', 'mlops', `--pwfile=${path.join(dir, 'pwfile')}`, '--auth=scram-sha-256', '--no-sync']);
      ready.start();
    } catch (err) {
      ready.destroy();
      throw err;
    }
    return ready;
  }

  private get data(): string {
    return path.join(this.dir, 'data');
  }

  private run(tool: string, args: string[]): void {
    const command = path.join(this.bin, tool);
    const [file, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
    const r = spawnSync(file, argv, { cwd: this.dir, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  }

  start(): void {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    this.run('pg_ctl', ['-D', this.data, '-o', options, '-l', path.join(this.dir, 'server.log'), '-w', 'start']);
  }

  stop(): void {
    this.run('pg_ctl', ['-D', this.data, '-m', 'fast', '-w', 'stop']);
  }

  /** A new database on it; returns its URL. */
  async createDatabase(name: string): Promise<string> {
    await withPg(this.adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
    const u = new URL(this.adminUrl);
    u.pathname = `/${name}`;
    return u.toString();
  }

  /** Stops it (if running) and removes its folder. */
  destroy(): void {
    liveClusters.delete(this);
    try {
      this.stop();
    } catch {
      /* already stopped */
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
