import type { FastifyInstance } from 'fastify';
import type {
  ImportModelRequest,
  ModelDetail,
  ModelVersion,
  PromoteRequest,
  RegistrySnapshot,
  ServerStatus,
  StartRunRequest,
  MonitoringSnapshot,
  AlertState,
} from '../../common/contract';
import { errors } from '../../common/errors';
import { parseModelRef } from '../../common/model-uri';
import { checkName, type Registry } from '../../common/registry';
import { importModel } from '../../pipeline/import/import-model';
import type { Challenger } from '../loop/challenger';
import type { ModelHolder } from '../serving/model-holder';
import type { PredictionLog } from '../prediction-log';
import type { LiveQualityTracker } from '../monitoring/live-quality';
import type { RunManager } from '../run-manager';
import { sampleRecords } from '../serving/sample';

export interface ApiOptions {
  registry: Registry;
  holder: ModelHolder;
  challenger: Challenger;
  runs: RunManager;
  log: PredictionLog | null;
  /** Every alert rule's state (server/alerts). */
  alerts: () => AlertState[];
  quality: LiveQualityTracker;
  status: () => Omit<ServerStatus, 'serving' | 'ready' | 'lastError' | 'predictionLog' | 'activeRuns'>;
}

const limitQuery = { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } } } as const;

/** The management API the extension (and anyone) uses: runs, models, aliases, status, monitoring. */
export async function apiRoutes(app: FastifyInstance, o: ApiOptions): Promise<void> {
  const tags = ['management'];
  app.get('/api/status', { schema: { tags, summary: 'Server and serving status' } }, async (): Promise<ServerStatus> => {
    const served = o.holder.current();
    return {
      ...o.status(),
      ready: served !== null,
      serving: served?.info ?? null,
      lastError: o.holder.error(),
      predictionLog: o.log?.stats() ?? { enabled: false, queued: 0, written: 0, dropped: 0, flushes: 0 },
      activeRuns: o.runs.ids(),
    };
  });
  const monitoringSummary = 'Drift, live quality, challenger and alerts of the served version';
  app.get('/api/monitoring', { schema: { tags, summary: monitoringSummary } }, async () => {
    const served = o.holder.current();
    const snapshot: MonitoringSnapshot = {
      serving: served?.info ?? null,
      drift: served?.drift.snapshot() ?? null,
      quality: served ? o.quality.quality(served.info.model, served.info.version) : null,
      challenger: o.challenger.info(),
      alerts: o.alerts(),
    };
    return snapshot;
  });

  app.get('/api/runs', { schema: { tags, summary: 'Recent runs, newest first', querystring: limitQuery } }, async (req) =>
    o.registry.runs.list((req.query as { limit: number }).limit),
  );
  app.get('/api/runs/:id', { schema: { tags, summary: 'One run' } }, async (req) => o.registry.runs.get((req.params as { id: string }).id));
  app.post(
    '/api/runs',
    {
      schema: {
        tags,
        summary: 'Start a pipeline run (progress on /api/events)',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            pipeline: { type: 'string' },
            params: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
            noCache: { type: 'boolean' },
            trigger: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' },
          },
        },
      },
    },
    async (req, reply) => reply.status(202).send({ runId: o.runs.start((req.body ?? {}) as StartRunRequest) }),
  );
  app.post('/api/runs/:id/cancel', { schema: { tags, summary: 'Cancel a run started here' } }, async (req) => {
    const id = checkName('run id', (req.params as { id: string }).id);
    if (!o.runs.cancel(id)) throw errors.notRunningHere(id);
    return { cancelled: id };
  });

  app.get('/api/models', { schema: { tags, summary: 'Registered models' } }, async () => o.registry.models.list());
  // One request (and one read transaction) for a whole registry view, instead of one per model.
  const registrySummary = 'Every model with its versions, in one consistent read';
  app.get('/api/registry', { schema: { tags, summary: registrySummary } }, async (): Promise<RegistrySnapshot> => {
    return { models: await o.registry.models.snapshot() };
  });
  const modelSummary =
    'A model: versions (newest first) and alias history; or, for a URL-encoded model URI ' +
    '(models:/iris@production, models:/iris/3) or iris@production, iris/3, that one version';
  app.get('/api/models/:name', { schema: { tags, summary: modelSummary } }, async (req): Promise<ModelDetail | ModelVersion> => {
    const ref = parseModelRef((req.params as { name: string }).name);
    if (ref.selector !== null) return o.registry.models.resolve(ref);
    return { name: ref.name, versions: await o.registry.models.versions(ref.name), history: await o.registry.models.history(ref.name) };
  });
  app.get(
    '/api/models/:name/sample',
    {
      schema: {
        tags,
        summary: 'Example /predict records from the signature of the served version (if of this model), else production or latest',
        querystring: { type: 'object', properties: { rows: { type: 'integer', minimum: 1, maximum: 1000, default: 2 } } },
      },
    },
    async (req) => {
      const name = checkName('model name', (req.params as { name: string }).name);
      const served = o.holder.current();
      const version = served?.info.model === name ? served.version : await o.registry.models.resolve({ name, selector: null });
      return sampleRecords(version.signature, (req.query as { rows: number }).rows);
    },
  );
  app.get('/api/models/:name/versions/:version', { schema: { tags, summary: 'One version' } }, async (req) => {
    const { name, version } = req.params as { name: string; version: string };
    if (!/^[1-9]\d*$/.test(version)) throw errors.badVersion(version);
    return o.registry.models.version(checkName('model name', name), Number(version));
  });
  app.put(
    '/api/models/:name/aliases/:alias',
    {
      schema: {
        tags,
        summary: 'Point an alias at a version (promote, roll back); the server swaps if it serves that alias',
        body: {
          type: 'object',
          required: ['version'],
          additionalProperties: false,
          properties: { version: { type: 'integer', minimum: 1 }, by: { type: 'string', maxLength: 100 } },
        },
      },
    },
    async (req) => {
      const { name, alias } = req.params as { name: string; alias: string };
      const body = req.body as PromoteRequest;
      const move = await o.registry.models.setAlias(name, alias, body.version, body.by ?? 'api');
      await o.holder.refresh(); // our own commit does not move data_version for our connection
      await o.challenger.refresh();
      return move;
    },
  );
  app.post(
    '/api/models/import',
    {
      schema: {
        tags,
        summary: 'Import an ONNX model trained elsewhere: evaluate it on a CSV and register it (paths on the server; docs/import.md)',
        body: {
          type: 'object',
          required: ['file', 'name', 'data', 'target'],
          additionalProperties: false,
          properties: {
            file: { type: 'string', minLength: 1 },
            name: { type: 'string', minLength: 1 },
            data: { type: 'string', minLength: 1 },
            target: { type: 'string', minLength: 1 },
            task: { type: 'string', enum: ['classification', 'regression'] },
            features: { type: 'array', items: { type: 'string', minLength: 1 } },
            gate: { type: 'boolean' },
            by: { type: 'string', maxLength: 100 },
          },
        },
      },
    },
    async (req, reply): Promise<ModelVersion> => {
      const { version } = await importModel(o.registry, req.body as ImportModelRequest);
      await o.holder.refresh(); // serves it now if the server follows this model's newest version
      return reply.status(201).send(version);
    },
  );
}
