import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readSse, type SseEvent } from '../../common/sse';

/** A response body that arrives in exactly these chunks (split anywhere, as TCP may). */
function body(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function read(chunks: string[]): Promise<{ events: SseEvent[]; retries: number[] }> {
  const events: SseEvent[] = [];
  const retries: number[] = [];
  await readSse(body(chunks), { onEvent: (e) => events.push(e), onRetry: (ms) => retries.push(ms) });
  return { events, retries };
}

test('SSE: multi-line data is joined with newlines before it is parsed', async () => {
  const { events } = await read(['event: registry\ndata: {"type":\ndata:  "registry",\ndata: "at": "t"}\n\n']);
  assert.deepEqual(events, [{ type: 'registry', id: undefined, data: { type: 'registry', at: 't' } }]);
});

test('SSE: id and retry fields are reported; comments are ignored', async () => {
  const { events, retries } = await read(['retry: 1500\n: connected\n\n', ': keep-alive\n\n', 'id: b-7\nevent: stats\ndata: {"n":1}\n\n']);
  assert.deepEqual(retries, [1500]);
  assert.deepEqual(events, [{ type: 'stats', id: 'b-7', data: { n: 1 } }]);
});

test('SSE: events split across chunks, CRLF line ends and no space after the colon', async () => {
  const { events } = await read(['id:1\r\nevent:run\r\nda', 'ta:{"a":', '1}\r\n', '\r\n', 'data: [2]\n', '\n']);
  assert.deepEqual(events, [
    { type: 'run', id: '1', data: { a: 1 } },
    { type: undefined, id: undefined, data: [2] }, // no id field: the client keeps the last one it saw
  ]);
});

test('SSE: an event whose data is not JSON is skipped, and the stream goes on', async () => {
  const { events } = await read(['data: not json\n\n', 'data: {"ok":true}\n\n', 'data: {"incomplete":']);
  assert.deepEqual(
    events.map((e) => e.data),
    [{ ok: true }],
  );
});
