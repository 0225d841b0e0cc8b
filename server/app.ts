import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { schemaValidation } from './plugins/schema-validation';
import { openRegistry, type Registry } from '../common/registry';
import { ensureApiToken } from '../common/api-token';
import { everyScopeProtected, type ServerConfig } from './config';
import { EventBus } from './event-bus';
import { ServerMetrics } from './server-metrics';
import { LiveQualityTracker } from './live-quality';
import { ModelHolder, type ServingOptions } from './model-holder';
import { PredictionLog } from './prediction-log';
import { Predictor } from './predictor';
import { RunManager } from './run-manager';
import { ServingStatsCollector } from './serving-stats';
import { apiRoutes } from './plugins/api';
import { requireAuth } from './plugins/auth';
import { docs } from './plugins/docs';
import { errorHandling } from './plugins/errors';
import { eventRoutes } from './plugins/events';
import { healthRoutes } from './plugins/health';
import { metricsRoute } from './plugins/metrics';
import { modelCardRoutes } from './plugins/model-card';
import { oipRoutes } from './plugins/oip';
import { predictRoutes } from './plugins/predict';
import { feedbackRoutes } from './plugins/feedback';
import { hostPolicy, requestGuard } from './plugins/request-guard';
import { requestId } from './request-id';

export const SERVER_VERSION = '0.1.0';

export interface Server {
  app: FastifyInstance;
  registry: Registry;
  holder: ModelHolder;
  bus: EventBus;
  log: PredictionLog | null;
  /** Live quality per version from ground-truth feedback (server/live-quality.ts). */
  quality: LiveQualityTracker;
}

/**
 * Builds the whole server from a config object — the CLI, the extension's child process and the
 * tests all build it here. Each concern is a plugin in plugins/; services are created once here.
 */
export async function buildServer(config: ServerConfig, logger: boolean | object = { level: config.logLevel }): Promise<Server> {
  const registry = openRegistry(config.dataDir);
  // /api always needs a credential: the configured ones, or this data dir's token (created on first start).
  const apiToken = ensureApiToken(config.dataDir);
  const bus = new EventBus();
  const stats = new ServingStatsCollector();
  const metrics = new ServerMetrics(
    config.git,
    () => holder.current(),
    () => log?.stats() ?? { enabled: false, queued: 0, written: 0, dropped: 0, flushes: 0 },
  );
  const quality = new LiveQualityTracker(metrics.registry, config.predictionLog.qualityWindow);
  const log = config.logPredictions
    ? PredictionLog.open({ dataDir: config.dataDir, ...config.predictionLog, onQuality: (q, replace) => quality.update(q, replace) })
    : null;
  const serving: ServingOptions = {
    driftWindow: config.driftWindow,
    batch: config.batch,
    onRun: (m, rows, seconds) => {
      metrics.inferenceDuration.observe(m.metricLabels, seconds);
      metrics.batchRows.observe({ model: m.info.model }, rows);
    },
  };
  const holder = new ModelHolder(
    registry,
    { model: config.model, selector: config.selector, pollMs: config.pollMs, serving },
    bus,
    (outcome) => metrics.swaps.inc({ outcome }),
  );
  const predictor = new Predictor(holder, metrics, stats, log);

  const app = Fastify({
    logger,
    logController: new LogController({ disableRequestLogging: !config.requestLogging }),
    bodyLimit: config.bodyLimit,
    requestIdHeader: false,
    genReqId: (req) => requestId(req.headers['x-request-id']),
    forceCloseConnections: 'idle',
  });
  const runs = new RunManager(
    bus,
    config.dataDir,
    config.defaultPipeline,
    () => {
      // A runner killed mid-run could not record its end: the registry does (cancelled when its
      // cancel file is there, else failed), as every open of the registry does for the CLI.
      registry.runs.recoverInterrupted();
      void holder.refresh();
    },
    (line) => app.log.info({ runner: line }),
  );
  errorHandling(app, registry.file);
  schemaValidation(app);
  requestGuard(app, hostPolicy(config.host, config.allowedHosts, everyScopeProtected(config)), config.corsOrigins);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpDuration.observe({ route, method: request.method, status_code: String(reply.statusCode) }, seconds);
    if (route === '/predict' || route.endsWith('/infer')) stats.request(reply.elapsedTime, reply.statusCode < 400);
  });
  if (config.corsOrigins.length > 0) await app.register(cors, { origin: config.corsOrigins });

  await app.register(docs, { version: SERVER_VERSION, signature: () => holder.current()?.version.signature ?? null });
  const scoped = (scope: 'predict' | 'metrics' | 'api' | 'feedback') =>
    requireAuth(scope, config.auth[scope], scope === 'api' || scope === 'feedback' ? apiToken : undefined);
  await app.register(healthRoutes, { holder, version: SERVER_VERSION });
  await app.register(metricsRoute, { metrics, auth: scoped('metrics') });
  await app.register(async (predictScope) => {
    const auth = scoped('predict');
    if (auth) predictScope.addHook('onRequest', auth);
    await predictScope.register(predictRoutes, { predictor, maxRows: config.maxRows });
    await predictScope.register(oipRoutes, { predictor, registry, maxRows: config.maxRows });
  });
  // The model card (docs/model-cards.md), behind the /api credential like the rest of /api.
  await app.register(async (cardScope) => {
    const auth = scoped('api');
    if (auth) cardScope.addHook('onRequest', auth);
    await cardScope.register(modelCardRoutes, { registry, holder, liveQuality: (model, version) => quality.quality(model, version) });
  });
  await app.register(async (apiScope) => {
    const auth = scoped('api');
    if (auth) apiScope.addHook('onRequest', auth);
    await apiScope.register(apiRoutes, {
      registry,
      holder,
      runs,
      log,
      quality,
      status: () => ({ version: SERVER_VERSION, pid: process.pid, startedAt, dataDir: config.dataDir }),
    });
    await apiScope.register(eventRoutes, { bus });
  });
  await app.register(async (feedbackScope) => {
    feedbackScope.addHook('onRequest', scoped('feedback')!);
    await feedbackScope.register(feedbackRoutes, { log, registry, quality, maxEntries: config.maxRows });
  });

  const startedAt = new Date().toISOString();
  const ticker = setInterval(() => bus.publish({ type: 'stats', stats: stats.tick() }), 1000);
  ticker.unref();
  app.addHook('onClose', async () => {
    clearInterval(ticker);
    await runs.stopAll();
    await holder.stop();
    await log?.close(); // the last hand-over, committed by the worker: nothing acknowledged is lost on a clean stop
    registry.close();
  });

  await holder.refresh();
  holder.start();
  return { app, registry, holder, bus, log, quality };
}
