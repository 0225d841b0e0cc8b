import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import * as vscode from 'vscode';
import { settings } from '../settings';
import type { ApiClient } from './api-client';

export type ServerState = 'stopped' | 'starting' | 'running' | 'external' | 'crashed';

/**
 * Starts the prediction server as a child process of the extension host, with the workspace's
 * Node, and keeps it up: output to a LogOutputChannel, restarts with backoff after a crash, stops
 * on deactivate. A server that is already listening is used as it is ("external").
 */
export class ServerProcess implements vscode.Disposable {
  private child: ChildProcess | null = null;
  private wanted = false;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  readonly onState = this.stateEmitter.event;
  state: ServerState = 'stopped';

  constructor(
    private readonly api: ApiClient,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Connects to a running server, or starts one. */
  async ensure(): Promise<void> {
    if (this.child) return;
    if (await this.alive()) return this.set('external');
    await this.start();
  }

  async start(): Promise<void> {
    this.wanted = true;
    if (this.child) return;
    if (await this.alive()) return this.set('external');
    const s = settings();
    const entry = s.projectDirectory ? path.join(s.projectDirectory, 'dist', 'server.js') : null;
    if (!entry || !fs.existsSync(entry)) {
      this.set('stopped');
      throw new Error(`no server to start: ${entry ?? 'open the project folder'} is missing (run npm ci in the project)`);
    }
    this.set('starting');
    const env: NodeJS.ProcessEnv = { ...process.env, MLOPS_PORT: String(s.port), MLOPS_HOST: s.host, ...(s.dataDirectory ? { MLOPS_DATA_DIR: s.dataDirectory } : {}) };
    if (s.pipeline) env.MLOPS_PIPELINE = s.pipeline;
    this.log.info(`starting ${s.nodePath} ${entry} on ${s.host}:${s.port}`);
    const child = spawn(s.nodePath, [entry], { cwd: s.projectDirectory!, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) readline.createInterface({ input: stream }).on('line', (line) => this.relay(line));
    child.on('error', (err) => this.log.error(`cannot start the server: ${err.message}`));
    child.on('exit', (code, signal) => this.exited(child, code, signal));
    for (let i = 0; i < 100 && this.child === child; i++) {
      if (await this.alive()) {
        this.failures = 0;
        return this.set('running');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (this.child === child) throw new Error('the server did not answer within 10 s (see MLOps Server output)');
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

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = null;
    if (!this.wanted) return this.set('stopped');
    this.failures++;
    const delay = Math.min(1000 * 2 ** (this.failures - 1), 30_000);
    this.log.warn(`server exited (${signal ?? `code ${code}`}); restarting in ${delay / 1000} s`);
    this.set('crashed');
    this.restartTimer = setTimeout(() => void this.start().catch((err: Error) => this.log.error(err.message)), delay);
  }

  /** pino JSON lines become leveled log lines; anything else is logged as is. */
  private relay(line: string): void {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; reqId?: string; res?: { statusCode?: number }; req?: { method?: string; url?: string } };
      const text = [entry.msg, entry.req ? `${entry.req.method} ${entry.req.url}` : '', entry.res?.statusCode ?? '', entry.reqId ? `(${entry.reqId})` : ''].filter(Boolean).join(' ');
      if ((entry.level ?? 30) >= 50) this.log.error(text);
      else if ((entry.level ?? 30) >= 40) this.log.warn(text);
      else this.log.info(text);
    } catch {
      this.log.info(line);
    }
  }

  private async alive(): Promise<boolean> {
    try {
      await this.api.status();
      return true;
    } catch {
      return false;
    }
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
