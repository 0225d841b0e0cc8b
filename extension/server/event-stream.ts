import type { ServerEvent } from '../../common/contract';
import { readSse } from '../../common/sse';
import { Emitter, type Disposable } from '../emitter';

/** Where the stream connects: the ApiClient (base URL and auth headers). */
export interface EventSourceTarget {
  url(path: string): string;
  headers(): Record<string, string>;
}

const MAX_DELAY_MS = 10_000;

/**
 * The server's Server-Sent Events, re-connected with backoff while the extension runs. Views
 * subscribe to `onEvent`; nothing polls. A reconnection sends Last-Event-ID, so the server replays
 * what was missed in between (runs' progress and finish, registry and serving changes); the first
 * delay is the server's `retry:`, doubled after each failure.
 */
export class EventStream implements Disposable {
  private readonly events = new Emitter<ServerEvent>();
  private readonly connection = new Emitter<boolean>();
  readonly onEvent = this.events.event;
  readonly onConnected = this.connection.event;
  private controller: AbortController | null = null;
  private stopped = false;
  private retryMs = 500;
  private delay = this.retryMs;
  private lastEventId: string | undefined;
  connected = false;

  constructor(private readonly target: EventSourceTarget) {}

  start(): void {
    this.stopped = false;
    if (!this.controller) void this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.controller = new AbortController();
      try {
        const headers = { ...this.target.headers(), ...(this.lastEventId ? { 'last-event-id': this.lastEventId } : {}) };
        const res = await fetch(this.target.url('/api/events'), { headers, signal: this.controller.signal });
        if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
        this.setConnected(true);
        this.delay = this.retryMs;
        await readSse(res.body, {
          onEvent: ({ id, data }) => {
            if (id) this.lastEventId = id;
            this.events.fire(data as ServerEvent);
          },
          onRetry: (ms) => (this.retryMs = this.delay = ms),
        });
      } catch {
        // server down or restarting: try again below
      }
      this.setConnected(false);
      if (this.stopped) break;
      await new Promise((r) => setTimeout(r, this.delay));
      this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    }
    this.controller = null;
  }

  private setConnected(value: boolean): void {
    if (this.connected === value) return;
    this.connected = value;
    this.connection.fire(value);
  }

  /** Reconnect now (after a server start) instead of waiting for the backoff. */
  kick(): void {
    this.delay = 200;
    this.controller?.abort();
  }

  dispose(): void {
    this.stopped = true;
    this.controller?.abort();
    this.events.dispose();
    this.connection.dispose();
  }
}
