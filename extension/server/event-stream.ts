import * as vscode from 'vscode';
import type { ServerEvent } from '../../common/contract';
import { readSse } from '../../common/sse';
import type { ApiClient } from './api-client';

/**
 * The server's Server-Sent Events, re-connected with backoff while the extension runs. Views
 * subscribe to `onEvent`; nothing polls.
 */
export class EventStream implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<ServerEvent>();
  private readonly connectedEmitter = new vscode.EventEmitter<boolean>();
  readonly onEvent = this.emitter.event;
  readonly onConnected = this.connectedEmitter.event;
  private controller: AbortController | null = null;
  private stopped = false;
  private retry = 500;
  connected = false;

  constructor(private readonly api: ApiClient) {}

  start(): void {
    this.stopped = false;
    if (!this.controller) void this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.controller = new AbortController();
      try {
        const res = await fetch(this.api.url('/api/events'), { headers: this.api.headers(), signal: this.controller.signal });
        if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
        this.setConnected(true);
        this.retry = 500;
        await readSse(res.body, (_type, data) => this.emitter.fire(data as ServerEvent));
      } catch {
        // server down or restarting: try again below
      }
      this.setConnected(false);
      if (this.stopped) break;
      await new Promise((r) => setTimeout(r, this.retry));
      this.retry = Math.min(this.retry * 2, 10_000);
    }
    this.controller = null;
  }

  private setConnected(value: boolean): void {
    if (this.connected === value) return;
    this.connected = value;
    this.connectedEmitter.fire(value);
  }

  /** Reconnect now (after a server start) instead of waiting for the backoff. */
  kick(): void {
    this.retry = 200;
    this.controller?.abort();
  }

  dispose(): void {
    this.stopped = true;
    this.controller?.abort();
    this.emitter.dispose();
    this.connectedEmitter.dispose();
  }
}
