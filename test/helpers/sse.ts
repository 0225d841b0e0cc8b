import type { ServerEvent } from '../../common/contract';
import { readSse } from '../../common/sse';

/** Reads GET /api/events as a real client would, collecting the parsed events and their ids. */
export async function subscribe(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(`${url}/api/events`, { headers, signal: controller.signal });
  if (res.status !== 200 || !res.body) throw new Error(`events: ${res.status}`);
  const events: ServerEvent[] = [];
  const ids: string[] = [];
  let retry: number | undefined;
  const pump = readSse(res.body, {
    onEvent: ({ type, id, data }) => {
      const event = data as ServerEvent;
      if (event.type !== type) throw new Error(`event field ${type} does not match data type ${event.type}`);
      events.push(event);
      ids.push(id ?? '');
    },
    onRetry: (ms) => (retry = ms),
  }).catch((err: unknown) => {
    if (!controller.signal.aborted) throw err;
  });
  return {
    contentType: res.headers.get('content-type'),
    events,
    ids,
    retry: () => retry,
    close: async () => {
      controller.abort();
      await pump;
    },
  };
}
