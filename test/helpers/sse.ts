import type { ServerEvent } from '../../common/contract';

/** Reads GET /api/events as a real client would, collecting the parsed events. */
export async function subscribe(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(`${url}/api/events`, { headers, signal: controller.signal });
  if (res.status !== 200 || !res.body) throw new Error(`events: ${res.status}`);
  const events: ServerEvent[] = [];
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          const type = block.split('\n').find((l) => l.startsWith('event: '))?.slice(7);
          if (data) {
            const event = JSON.parse(data.slice(6)) as ServerEvent;
            if (event.type !== type) throw new Error(`event field ${type} does not match data type ${event.type}`);
            events.push(event);
          }
        }
      }
    } catch (err) {
      if (!controller.signal.aborted) throw err;
    }
  })();
  return {
    contentType: res.headers.get('content-type'),
    events,
    close: async () => {
      controller.abort();
      await pump;
    },
  };
}
