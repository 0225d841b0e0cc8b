import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type * as vscode from 'vscode';
import { errors } from '../../common/errors';
import { Emitter, type Disposable } from '../emitter';
import { serverLogLine, type LogLevel } from './log-lines';

export type ServerState = 'stopped' | 'starting' | 'running' | 'external' | 'crashed';

/** The settings a start reads (a subset of extension/settings.ts's, read fresh for each start). */
export interface LaunchSettings {
  host: string;
  port: number;
  nodePath: string;
  dataDirectory: string;
  pipeline: string;
  defaultAlias: string;
  /** Model URI to serve (MLOPS_MODEL), or '' for the server's own choice (the only model in the registry). */
  model: string;
  projectDirectory: string | null;
}

export type ServerLog = Pick<vscode.LogOutputChannel, LogLevel>;

const START_TIMEOUT_S = 10;

/**
 * Starts the prediction server as a child process of the extension host, with the workspace's
 * Node, and keeps it up: output to a LogOutputChannel, restarts with backoff after a crash, stops
 * on deactivate. A server that is already listening is used as it is ("external"). Starting is
 * single-flight: autostart, Train's ensure() and the Start command share one start, so at most one
 * child is ever spawned.
 */
export class ServerProcess implements Disposable {
  private child: ChildProcess | null = null;
  private starting: Promise<void> | null = null;
  private wanted = false;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly stateEmitter = new Emitter<ServerState>();
  readonly onState = this.stateEmitter.event;
  state: ServerState = 'stopped';

  constructor(
    private readonly api: { live(): Promise<boolean> },
    private readonly log: ServerLog,
    private readonly settings: () => LaunchSettings,
  ) {}

  /** The child's process id while the extension runs the server. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Connects to a running server, or starts one. */
  ensure(): Promise<void> {
    // start() joins a start under way, and launch() uses a server already listening as it is.
    return this.child ? Promise.resolve() : this.start();
  }

  start(): Promise<void> {
    this.wanted = true;
    this.starting ??= this.launch().finally(() => (this.starting = null));
    return this.starting;
  }

  private async launch(): Promise<void> {
    if (this.child) return;
    if (await this.api.live()) return this.set('external');
    const s = this.settings();
    if (!s.projectDirectory) throw errors.noProject();
    const entry = path.join(s.projectDirectory, 'dist', 'server.js');
    if (!fs.existsSync(entry)) {
      this.set('stopped');
      throw errors.serverMissing(entry);
    }
    this.set('starting');
    this.log.info(`starting ${s.nodePath} ${entry} on ${s.host}:${s.port}`);
    const child = spawn(s.nodePath, [entry], { cwd: s.projectDirectory, env: serverEnv(s), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    readline.createInterface({ input: child.stdout! }).on('line', (line) => this.relay(line, 'info'));
    readline.createInterface({ input: child.stderr! }).on('line', (line) => this.relay(line, 'warn'));
    let exit: string | null = null;
    child.on('error', (err) => this.log.error(`cannot start the server: ${err.message}`));
    child.on('exit', (code, signal) => {
      exit = signal ?? `code ${code}`;
      this.exited(child, exit);
    });
    for (let i = 0; i < START_TIMEOUT_S * 10 && this.child === child; i++) {
      if (await this.api.live()) {
        this.failures = 0;
        return this.set('running');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (this.child === child) throw errors.serverNoAnswer(START_TIMEOUT_S);
    if (this.wanted) throw errors.serverExited(exit ?? 'did not start');
  }

  async stop(): Promise<void> {
    this.wanted = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return this.set('stopped');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.child === child) child.kill('SIGKILL');
    this.child = null;
    this.set('stopped');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  private exited(child: ChildProcess, how: string): void {
    if (this.child !== child) return;
    this.child = null;
    if (!this.wanted) return this.set('stopped');
    this.failures++;
    const delay = Math.min(1000 * 2 ** (this.failures - 1), 30_000);
    this.log.warn(`server exited (${how}); restarting in ${delay / 1000} s`);
    this.set('crashed');
    this.restartTimer = setTimeout(() => void this.start().catch((err: Error) => this.log.error(err.message)), delay);
  }

  private relay(line: string, fallback: LogLevel): void {
    const { level, text } = serverLogLine(line, fallback);
    this.log[level](text);
  }

  private set(state: ServerState): void {
    this.state = state;
    this.stateEmitter.fire(state);
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
  }
}

/** The server's environment: the extension host's, plus where to listen, the data and what to serve. */
function serverEnv(s: LaunchSettings): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, MLOPS_PORT: String(s.port), MLOPS_HOST: s.host };
  if (s.dataDirectory) env.MLOPS_DATA_DIR = s.dataDirectory;
  if (s.pipeline) env.MLOPS_PIPELINE = s.pipeline;
  // With several models in the registry the server needs to be told which one (else it refuses to guess).
  if (s.model) env.MLOPS_MODEL = s.model;
  // The server follows `production`, else the newest version; another default alias is followed as set.
  if (s.defaultAlias !== 'production') env.MLOPS_MODEL_ALIAS = s.defaultAlias;
  return env;
}
