import type { FastifyBaseLogger } from 'fastify';
import client from 'prom-client';
import type { AlertState } from '../../common/contract';
import type { EventBus } from '../event-bus';
import { readAlertsFile, watchAlertsFile } from './config-file';
import { AlertEngine, type AlertInputs } from './engine';
import { DEFAULT_ALERTS, type AlertsConfig } from './rules';

export interface AlertsOptions {
  /** The alerts file (alertsFilePath()); absent: the defaults. */
  file: string;
  bus: EventBus;
  /** The /metrics registry, which gets mlops_alert_active{rule}. */
  metrics: client.Registry;
  inputs: AlertInputs;
  log: FastifyBaseLogger;
  /** A rule started firing (after the event, gauge and log line): the retrainer listens here. */
  onFire?: (state: AlertState) => void;
}

/**
 * The alert rules of the server: read from the alerts file at start and on change (an invalid file is
 * a log line, and the last good rules stay), evaluated by the engine; a start or stop is an `alert`
 * event on the bus, the gauge and a log line.
 */
export class Alerts {
  readonly engine: AlertEngine;
  private readonly unwatch: () => void;

  constructor(o: AlertsOptions) {
    let config: AlertsConfig = DEFAULT_ALERTS;
    try {
      config = readAlertsFile(o.file);
    } catch (err) {
      o.log.error(`alerts: ${(err as Error).message}; using the default rules`);
    }
    this.engine = new AlertEngine(o.inputs, config, (state) => {
      o.bus.publish({ type: 'alert', alert: state });
      if (state.firing) o.log.warn({ alert: state }, `alert ${state.rule} firing: ${state.message}`);
      else o.log.info({ alert: state }, `alert ${state.rule} ${state.message}`);
      if (state.firing) o.onFire?.(state);
    });
    const engine = this.engine;
    new client.Gauge({
      name: 'mlops_alert_active',
      help: 'Alert rules of the server: 1 while the rule fires, else 0',
      labelNames: ['rule'],
      registers: [o.metrics],
      collect() {
        this.reset();
        for (const s of engine.list()) this.set({ rule: s.rule }, s.firing ? 1 : 0);
      },
    });
    this.unwatch = watchAlertsFile(
      o.file,
      (next) => {
        o.log.info(`alerts: ${o.file} read: ${next.rules.filter((r) => r.enabled).length} rules every ${next.intervalSec} s`);
        this.engine.setConfig(next);
      },
      (err) => o.log.error(`alerts: ${err.message}; keeping the previous rules`),
    );
    this.engine.start();
  }

  /** A /predict or infer request ended (ok: not a server error). */
  request(latencyMs: number, ok: boolean): void {
    this.engine.request(latencyMs, ok);
  }

  list(): AlertState[] {
    return this.engine.list();
  }

  close(): void {
    this.unwatch();
    this.engine.stop();
  }
}
