import type { AddressInfo } from 'node:net';
import { buildServer, type Server } from '../../server/app';
import { loadConfig } from '../../server/config';
import { after, before } from 'node:test';
import { mlops, tempDataDir } from './cli';
import { apiTokenHeader, readApiToken } from '../../common/api-token';

export interface TestServer extends Server {
  url: string;
  /** The data dir's management-API token as an `authorization` header: what the CLI and the extension send. */
  apiHeaders: Record<string, string>;
  /** The same token as the extension's ApiClient takes it. */
  apiToken: () => string | undefined;
  close(): Promise<void>;
}

/** The real server (same build as `mlops serve`) on an ephemeral loopback port. */
export async function startTestServer(dataDir: string, env: NodeJS.ProcessEnv = {}, logger: boolean | object = false): Promise<TestServer> {
  const config = loadConfig({ port: 0 }, { MLOPS_DATA_DIR: dataDir, MLOPS_POLL_MS: '100', MLOPS_LOG_FLUSH_MS: '50', ...env });
  const server = await buildServer(config, logger);
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.app.server.address() as AddressInfo;
  return {
    ...server,
    url: `http://127.0.0.1:${port}`,
    apiHeaders: apiTokenHeader(dataDir),
    apiToken: () => readApiToken(dataDir) ?? undefined,
    close: () => server.app.close(),
  };
}

/** Trains the iris example into dataDir (`extra` params per run); returns nothing, asserts success. */
export function trainIris(dataDir: string, ...runs: string[][]): void {
  for (const params of runs.length ? runs : [[]]) {
    const r = mlops(dataDir, ['train', '-q', ...params.flatMap((p) => ['--param', p])]);
    if (r.code !== 0) throw new Error(`training failed: ${r.stderr}`);
  }
}

export const SAMPLE = [
  { sepal_length: 6.7, sepal_width: 3.5, petal_length: 5.2, petal_width: 2.3 },
  { sepal_length: 6.6, sepal_width: 3, petal_length: 4.4, petal_width: 1.4 },
];

/** GET of a JSON answer, with the headers given (e.g. TestServer.apiHeaders). */
export async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { headers });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * In a describe(): trains the iris example into a fresh data folder before its tests and serves it;
 * closes the server after. Read `.server` and `.dir` inside the tests.
 */
export function trainedServer(env: NodeJS.ProcessEnv = {}): { server: TestServer; dir: string } {
  const ctx = { dir: '', server: undefined as unknown as TestServer };
  before(async () => {
    ctx.dir = tempDataDir();
    trainIris(ctx.dir);
    ctx.server = await startTestServer(ctx.dir, env);
  });
  after(() => ctx.server.close());
  return ctx;
}
