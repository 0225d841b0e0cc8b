import {
  MODEL_VERSION_HEADER,
  type AliasMove,
  type ApiError,
  type ChallengerInfo,
  type ImportModelRequest,
  type ModelDetail,
  type ModelSummary,
  type ModelVersion,
  type MonitoringSnapshot,
  type PromoteRequest,
  type RegistrySnapshot,
  type RetrainRequest,
  type RetrainResponse,
  type RunRecord,
  type ServerStatus,
  type StartRunRequest,
  type StartRunResponse,
} from '../../common/contract';

/** The server's management API, typed by the shared contract; /api takes the data dir's token (common/api-token.ts). */
export class ApiClient {
  constructor(
    private readonly base: () => string,
    /** The /api token: the extension reads it from the data dir (extension/settings.ts), tests from theirs. */
    private readonly token: () => string | undefined,
  ) {}

  status = () => this.get<ServerStatus>('/api/status');
  /** True when an MLOps server is listening (its liveness route needs no credentials). */
  live = async (): Promise<boolean> => {
    try {
      const res = await this.fetch('/healthz', {});
      return res.ok && ((await res.json()) as { live?: unknown }).live === true;
    } catch {
      return false;
    }
  };
  monitoring = () => this.get<MonitoringSnapshot>('/api/monitoring');
  runs = (limit = 30) => this.get<RunRecord[]>(`/api/runs?limit=${limit}`);
  run = (id: string) => this.get<RunRecord>(`/api/runs/${encodeURIComponent(id)}`);
  models = () => this.get<ModelSummary[]>('/api/models');
  registry = () => this.get<RegistrySnapshot>('/api/registry');
  version = (name: string, version: number) => this.get<ModelVersion>(`/api/models/${encodeURIComponent(name)}/versions/${version}`);
  model = (name: string) => this.get<ModelDetail>(`/api/models/${encodeURIComponent(name)}`);
  /** Example records built by the server from the model's signature (server/serving/sample.ts). */
  sample = (name: string) => this.get<Record<string, unknown>[]>(`/api/models/${encodeURIComponent(name)}/sample`);
  /** The version's model card as Markdown, its live section rendered now (docs/model-cards.md). */
  modelCard = async (name: string, version: number) =>
    (await this.fetch(`/api/models/${encodeURIComponent(name)}/versions/${version}/card`, {})).text();
  /** Evaluating the model on its CSV takes the server a while for large files: a longer wait than other calls. */
  importModel = (req: ImportModelRequest) => this.send<ModelVersion>('POST', '/api/models/import', req, 300_000);
  startRun = (req: StartRunRequest) => this.send<StartRunResponse>('POST', '/api/runs', req);
  /** The served model's pipeline again with the labelled predictions (server/loop/retrain.ts). */
  retrain = (req: RetrainRequest) => this.send<RetrainResponse>('POST', '/api/retrain', req);
  cancelRun = (id: string) => this.send<{ cancelled: string }>('POST', `/api/runs/${encodeURIComponent(id)}/cancel`, {});
  promote = (model: string, alias: string, version: number) =>
    this.send<AliasMove>('PUT', `/api/models/${encodeURIComponent(model)}/aliases/${encodeURIComponent(alias)}`, {
      version,
      by: 'extension',
    } satisfies PromoteRequest);

  challenger = () => this.get<ChallengerInfo | null>('/api/challenger');
  /** Production takes the challenger's version and the challenger alias goes (server/plugins/challenger.ts). */
  promoteChallenger = () => this.send<AliasMove[]>('POST', '/api/challenger/promote', { by: 'extension' });

  async predict(body: unknown): Promise<{ body: unknown; version: string | null }> {
    const res = await this.fetch('/predict', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    return { body: await res.json(), version: res.headers.get(MODEL_VERSION_HEADER) };
  }

  /** The /api credential. Read once and kept (a file read per request would be waste); read again while missing or after a 401. */
  headers(): Record<string, string> {
    this.cachedToken ??= this.token();
    return this.cachedToken ? { authorization: `Bearer ${this.cachedToken}` } : {};
  }

  private cachedToken: string | undefined;

  url(path: string): string {
    return this.base() + path;
  }

  private async get<T>(path: string): Promise<T> {
    return (await (await this.fetch(path, {})).json()) as T;
  }

  private async send<T>(method: string, path: string, body: unknown, timeoutMs?: number): Promise<T> {
    const res = await this.fetch(path, { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }, timeoutMs);
    return (await res.json()) as T;
  }

  private async fetch(path: string, init: RequestInit, timeoutMs = 10_000): Promise<Response> {
    const res = await fetch(this.url(path), {
      ...init,
      headers: { ...(path.startsWith('/api') ? this.headers() : {}), ...(init.headers as Record<string, string>) },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) {
      if (res.status === 401) this.cachedToken = undefined; // the server may have made a new token
      const body = (await res.json().catch(() => ({ error: res.statusText }))) as ApiError;
      throw new Error(body.error ?? `${res.status} ${res.statusText}`);
    }
    return res;
  }
}
