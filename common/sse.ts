/**
 * Reads a Server-Sent Events stream (as GET /api/events writes it) into parsed `data:` payloads.
 * Shared by the extension and the tests; the server side is server/plugins/events.ts.
 */
export async function readSse(body: ReadableStream<Uint8Array>, onEvent: (type: string | undefined, data: unknown) => void): Promise<void> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const data = lines.find((l) => l.startsWith('data: '));
      if (data) onEvent(lines.find((l) => l.startsWith('event: '))?.slice(7), JSON.parse(data.slice(6)));
    }
  }
}
