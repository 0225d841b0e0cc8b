import autocannon from 'autocannon';
import { apiTokenHeader } from '../common/api-token';
import type { LoadTestResult, ServerStatus } from '../common/contract';
import { errors } from '../common/errors';

export interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  body: string;
  rowsPerRequest: number;
  headers?: Record<string, string>;
  /** Called once a second with the requests of that second. */
  onTick?: (requestsThisSecond: number, secondsDone: number) => void;
}

/**
 * Drives an HTTP endpoint with autocannon (the successor of the original template's locust
 * scenario: many users, one iris record each) and summarises the run.
 */
export async function runLoad(o: LoadOptions): Promise<LoadTestResult> {
  const startedAt = new Date().toISOString();
  const timeline: number[] = [];
  let thisSecond = 0;
  let instance: autocannon.Instance | undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: o.url,
        method: 'POST',
        connections: o.connections,
        duration: o.durationSeconds,
        headers: { 'content-type': 'application/json', ...o.headers },
        body: o.body,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
  instance!.on('response', () => thisSecond++);
  const ticker = setInterval(() => {
    timeline.push(thisSecond);
    o.onTick?.(thisSecond, timeline.length);
    thisSecond = 0;
  }, 1000);
  const r = await done;
  clearInterval(ticker);
  const seconds = r.duration;
  return {
    url: o.url,
    connections: o.connections,
    durationSeconds: seconds,
    rowsPerRequest: o.rowsPerRequest,
    requests: r.requests.total,
    requestsPerSecond: r.requests.total / seconds,
    rowsPerSecond: ((r.requests.total - r.non2xx) * o.rowsPerRequest) / seconds,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.mean },
    errors: r.errors + r.timeouts + r.non2xx,
    non2xx: r.non2xx,
    timeouts: r.timeouts,
    timeline,
    startedAt,
  };
}

/**
 * One example record for the model a server serves, from its signature (GET /api/models/{name}/sample):
 * nothing model-specific is written here. /api takes MLOPS_API_TOKEN, else the data dir's token.
 */
export async function servedSample(predictUrl: string, dataDir: string): Promise<Record<string, number>> {
  const origin = new URL(predictUrl).origin;
  const headers = apiTokenHeader(dataDir);
  const get = async <T>(url: string, what: string): Promise<T> => {
    const res = await fetch(url, { headers }).catch((err: Error) => {
      throw errors.unreachable(url, err.message);
    });
    if (!res.ok) throw errors.serverAnswered(url, res.status, what, await res.text());
    return (await res.json()) as T;
  };
  const status = await get<ServerStatus>(`${origin}/api/status`, 'the status request');
  if (!status.serving) throw errors.notServing(origin, status.lastError ?? 'loading');
  const url = `${origin}/api/models/${encodeURIComponent(status.serving.model)}/sample?rows=1`;
  const [record] = await get<Record<string, number>[]>(url, 'the sample request');
  return record;
}
