import { createParser } from 'eventsource-parser';

/** One event of a Server-Sent Events stream whose data is JSON (as GET /api/events writes it). */
export interface SseEvent {
  /** The `event:` field; undefined when the server sent none. */
  type: string | undefined;
  /** The `id:` field (what a reconnecting client sends back as Last-Event-ID). */
  id: string | undefined;
  data: unknown;
}

export interface SseHandlers {
  onEvent(event: SseEvent): void;
  /** The server's `retry:` field: how long to wait before reconnecting, in milliseconds. */
  onRetry?(ms: number): void;
}

/**
 * Reads a Server-Sent Events stream until it ends, parsed by eventsource-parser as the spec says
 * (multi-line data, id, retry, comments, CR/LF line ends, events split across chunks). Events whose
 * data is not JSON are skipped: every event this project sends is JSON. Shared by the extension and
 * the tests; the server side is server/plugins/events.ts.
 */
export async function readSse(body: ReadableStream<Uint8Array>, handlers: SseHandlers): Promise<void> {
  const parser = createParser({
    onEvent: (message) => {
      let data: unknown;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      handlers.onEvent({ type: message.event, id: message.id, data });
    },
    onRetry: (ms) => handlers.onRetry?.(ms),
  });
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    parser.feed(value);
  }
}
