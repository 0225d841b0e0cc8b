import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { schemaValidation } from './plugins/schema-validation';
import { openRegistry, type Registry } from '../common/registry';
import { LocalArtifactStore } from '../common/registry/local-artifacts';
import { ensureApiToken } from '../common/api-token';
import { everyScopeProtected, type ServerConfig } from './config';
import { EventBus } from './event-bus';
import { ServerMetrics } from './monitoring/server-metrics';
import { LiveQualityTracker } from './monitoring/live-quality';
import { ModelHolder, type ServingOptions } from './serving/model-holder';
import { PredictionLog } from './prediction-log';
import { Predictor } from './serving/predictor';
import { RunManager } from './run-manager';
import { ServingStatsCollector } from './monitoring/serving-stats';
import { apiRoutes } from './plugins/api';
import { challengerRoutes } from './plugins/challenger';
import { requireAuth } from './plugins/auth';
import { docs } from './plugins/docs';
import { errorHandling } from './plugins/errors';
import { eventRoutes } from './plugins/events';
import { healthRoutes } from './plugins/health';
import { DatabaseHealth } from './monitoring/database-health';
import { metricsRoute } from './plugins/metrics';
import { modelCardRoutes } from './plugins/model-card';
import { oipRoutes } from './plugins/oip';
import { predictRoutes } from './plugins/predict';
import { feedbackRoutes } from './plugins/feedback';
import { hostPolicy, requestGuard } from './plugins/request-guard';
import { requestId } from './request-id';
import { Alerts } from './alerts/service';
import { Retrainer } from './loop/retrain';
import { autoPromoter } from './loop/auto-promote';
import { readLabelled } from './loop/retrain-data';
import { retrainRoutes } from './plugins/retrain';
import { Challenger } from './loop/challenger';

export const SERVER_VERSION = '0.1.0';

export interface Server {
  app: FastifyInstance;
  registry: Registry;
  holder: ModelHolder;
  challenger: Challenger;
  bus: EventBus;
  log: PredictionLog | null;
  alerts: Alerts;
  retrainer: Retrainer;
  /** Live quality per version from ground-truth feedback (server/monitoring/live-quality.ts). */
  quality: LiveQualityTracker;
}

/**
 * Builds the whole server from a config object — the CLI, the extension's child process and the
 * tests all build it here. Each concern is a plugin in plugins/; services are created once here.
 */
export async function buildServer(config: ServerConfig, logger: boolean | object = { level: config.logLevel }): Promise<Server> {
  const registry = await openRegistry({
    dataDir: config.dataDir,
    artifacts: new LocalArtifactStore(config.artifactDir),
    env: { MLOPS_DATABASE_URL: config.databaseUrl },
  });
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
    ? PredictionLog.open({
        dataDir: config.dataDir,
        // postgres://…: the log goes to the same PostgreSQL as the registry (else the data dir's SQLite file).
        databaseUrl: config.databaseUrl,
        ...config.predictionLog,
        onQuality: (q, replace) => quality.update(q, replace),
      })
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
  const challenger = new Challenger(registry, config.challenger, serving, bus, holder, {
    model: config.model,
    pollMs: config.pollMs,
    metrics,
    warn: (line) => app.log.warn({ challenger: line }),
  });
  // The challenger follows the registry as the champion does, and is checked again against each new champion.
  bus.subscribe((e) => {
    if (e.type === 'registry' || e.type === 'serving') void challenger.refresh();
  });
  const database = new DatabaseHealth(
    registry,
    config.databasePingMs,
    (state) => {
      metrics.databaseUp.set(state.reachable ? 1 : 0);
      if (state.reachable) app.log.info({ database: registry.location }, 'database reachable');
      else
        app.log.warn({ database: registry.location, error: state.error }, 'database unreachable: serving the loaded model, log rows queue');
    },
    config.readyDatabase,
  );
  const predictor = new Predictor(holder, metrics, stats, log, challenger);
  challenger.qualityOf = (model, version) => quality.quality(model, version);
  challenger.recordShadow = (c, batch, p, id, ms) => predictor.record(c, batch, p, id, ms, true);

  const app = Fastify({
    logger,
    logController: new LogController({ disableRequestLogging: !config.requestLogging }),
    bodyLimit: config.bodyLimit,
    requestIdHeader: false,
    genReqId: (req) => requestId(req.headers['x-request-id']),
    forceCloseConnections: 'idle',
  });
  // A runner killed mid-run could not record its end: the registry does (cancelled when its cancel file
  // is there, else failed), as every open of the registry does for the CLI. After each of this server's
  // runners exits, and every config.runRecoveryMs for runners it did not start: CLI runs, and runners on other
  // hosts, whose lease lapses when they die (a killed training pod).
  const recoverRuns = () =>
    registry.runs
      .recoverInterrupted()
      .then((ids) => {
        if (ids.length > 0) app.log.warn({ runs: ids }, 'runs whose runner is gone marked as ended');
      })
      .catch((err: unknown) => app.log.warn({ err }, 'could not mark interrupted runs'));
  const runs = new RunManager(
    bus,
    config.dataDir,
    config.defaultPipeline,
    () => void recoverRuns().then(() => holder.refresh()), // the runner may have registered a version
    (line) => app.log.info({ runner: line }),
  );
  // The server's own alias moves (retraining, auto-promote) do not move its connection's data_version,
  // which is how the holders notice other processes' moves: they are told.
  const aliasesMoved = () => {
    void holder.refresh();
    bus.publish({ type: 'registry', at: new Date().toISOString() });
  };
  const autoPromote = config.retrain.autoPromote
    ? autoPromoter({
        rule: config.retrain.autoPromote,
        registry,
        champion: () => holder.current(),
        challenger: () => challenger.info(),
        quality: (model, version) => quality.quality(model, version),
        aliasesMoved,
        log: app.log,
      })
    : null;
  const retrainer = new Retrainer({
    registry,
    runs,
    served: () => holder.current(),
    dataDir: config.dataDir,
    selector: config.selector,
    challengerAlias: config.challenger.alias,
    cooldownSec: config.retrain.cooldownSec,
    labelled: (version) => readLabelled(config.dataDir, version),
    aliasesMoved,
    log: app.log,
  });
  const alerts = new Alerts({
    file: config.alertsFile,
    bus,
    metrics: metrics.registry,
    inputs: {
      drift: () => holder.current()?.drift.snapshot() ?? null,
      quality: () => {
        const served = holder.current();
        return served ? quality.quality(served.info.model, served.info.version) : null;
      },
    },
    log: app.log,
    onFire: config.retrain.onAlert ? (alert) => retrainer.onAlert(alert) : undefined,
  });
  errorHandling(app, registry.location);
  schemaValidation(app);
  requestGuard(app, hostPolicy(config.host, config.allowedHosts, everyScopeProtected(config)), config.corsOrigins);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpDuration.observe({ route, method: request.method, status_code: String(reply.statusCode) }, seconds);
    if (route === '/predict' || route.endsWith('/infer')) {
      stats.request(reply.elapsedTime, reply.statusCode < 400);
      // Alerts count the server's failures only: a client's bad input is not the service failing.
      alerts.request(reply.elapsedTime, reply.statusCode < 500);
    }
  });
  if (config.corsOrigins.length > 0) await app.register(cors, { origin: config.corsOrigins });

  await app.register(docs, { version: SERVER_VERSION, signature: () => holder.current()?.version.signature ?? null });
  const scoped = (scope: 'predict' | 'metrics' | 'api' | 'feedback') =>
    requireAuth(scope, config.auth[scope], scope === 'api' || scope === 'feedback' ? apiToken : undefined);
  await app.register(healthRoutes, { holder, database, version: SERVER_VERSION });
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
      challenger,
      runs,
      log,
      alerts: () => alerts.list(),
      quality,
      status: () => ({ version: SERVER_VERSION, pid: process.pid, startedAt, dataDir: config.dataDir }),
    });
    await apiScope.register(eventRoutes, { bus });
    await apiScope.register(retrainRoutes, { retrainer });
    await apiScope.register(challengerRoutes, { registry, holder, challenger });
  });
  await app.register(async (feedbackScope) => {
    feedbackScope.addHook('onRequest', scoped('feedback')!);
    await feedbackScope.register(feedbackRoutes, { log, registry, quality, maxEntries: config.maxRows });
  });

  const startedAt = new Date().toISOString();
  const ticker = setInterval(() => {
    bus.publish({ type: 'stats', stats: stats.tick() });
    challenger.tick();
    autoPromote?.();
  }, 1000);
  ticker.unref();
  const recoverTicker = setInterval(() => void recoverRuns(), config.runRecoveryMs);
  recoverTicker.unref();
  app.addHook('onClose', async () => {
    clearInterval(ticker);
    clearInterval(recoverTicker);
    alerts.close();
    await runs.stopAll();
    await challenger.stop();
    await holder.stop();
    await log?.close(); // the last hand-over, committed by the worker: nothing acknowledged is lost on a clean stop
    await database.stop();
    await registry.close();
  });

  await database.start();
  await holder.refresh();
  await challenger.refresh();
  holder.start();
  return { app, registry, holder, challenger, bus, log, quality, alerts, retrainer };
}
