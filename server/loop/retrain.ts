import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { AlertState, ModelVersion, RetrainRequest, RetrainResponse } from '../../common/contract';
import { errors, isMlopsError } from '../../common/errors';
import { HeldLease, leaseHolder, type Registry } from '../../common/registry';
import type { ServedModel } from '../serving/model-holder';
import { writeRetrainData, type TrainingRecord } from './retrain-data';
import type { RunManager } from '../run-manager';

export interface RetrainOptions {
  registry: Registry;
  runs: RunManager;
  served: () => ServedModel | null;
  dataDir: string;
  /** The server's selector (ServerConfig.selector): null follows production, else latest. */
  selector: string | number | null;
  /** The alias a retrained version that passed the gate gets (MLOPS_CHALLENGER_ALIAS). */
  challengerAlias: string;
  /** Seconds after a retraining ends before an alert may start another (MLOPS_RETRAIN_COOLDOWN_SEC). */
  cooldownSec: number;
  /** The version's labelled predictions as training rows (the prediction log joined with feedback). */
  labelled: (version: ModelVersion) => Promise<TrainingRecord[]>;
  log: FastifyBaseLogger;
  /** Aliases moved here: the server's holders are told (app.ts). */
  aliasesMoved: () => void;
}

/** How a retraining ended: the version it registered and set as challenger, or why there is none. */
export interface RetrainOutcome {
  runId: string;
  status: string;
  challenger: { model: string; version: number } | null;
}

/** How long a retraining's lease lasts unrenewed: a server that dies mid-retraining frees it this long after. */
const RETRAIN_LEASE_MS = 30_000;

/**
 * Retraining of the served model: its pipeline (from its lineage) runs again on its data with the
 * labelled predictions appended, or on them alone; a version that passes the gate is registered and
 * becomes the challenger, never the champion. One at a time per model, across every replica that
 * shares the registry: a retraining holds the lease `retrain:<model>` while it runs, and leaves
 * `retrain-cooldown:<model>` behind for the cool-down, which alerts (on any replica) must wait out
 * so that a flapping alert, or the same alert on N replicas, cannot start a storm.
 */
export class Retrainer {
  private running: { runId: string; done: Promise<RetrainOutcome> } | null = null;
  /** Set from the first check to the run's start, so that two requests at once cannot both pass the checks. */
  private starting = false;
  /** This server among those sharing the registry (several may share a process, as in the tests). */
  private readonly holder = `${leaseHolder()}/${crypto.randomUUID().slice(0, 8)}`;

  constructor(private readonly o: RetrainOptions) {}

  /** The retraining running now (or the last one), whose `done` says how it ended. */
  current(): { runId: string; done: Promise<RetrainOutcome> } | null {
    return this.running;
  }

  /** Starts a retraining; `automatic` ones (alerts) also respect the cool-down. */
  async start(req: RetrainRequest, automatic = false): Promise<RetrainResponse> {
    const served = this.o.served();
    if (!served) throw errors.nothingServed(null);
    const model = served.version.model;
    if (automatic) {
      const cooling = await this.liveLease(`retrain-cooldown:${model}`);
      if (cooling) throw errors.retrainCoolingDown(Math.ceil(cooling.remainingMs / 1000));
    }
    // From here to the lease, nothing is awaited before `starting` is set: two calls cannot both pass.
    if (this.starting) throw errors.retrainBusy(null);
    const active = this.running && this.o.runs.finished(this.running.runId) ? this.running.runId : null;
    if (active) throw errors.retrainBusy(active);
    this.starting = true;
    try {
      const lease = await HeldLease.take(this.o.registry.leases, `retrain:${model}`, this.holder, RETRAIN_LEASE_MS);
      if (!lease) throw errors.retrainBusyElsewhere(model, (await this.liveLease(`retrain:${model}`))?.holder ?? 'another server');
      return await this.launch(served.version, req.data ?? 'append', req.trigger ?? 'manual', lease).catch(async (err: unknown) => {
        await lease.release().catch(() => undefined);
        throw err;
      });
    } finally {
      this.starting = false;
    }
  }

  private async liveLease(name: string): Promise<{ holder: string; remainingMs: number } | undefined> {
    return (await this.o.registry.leases.live(name)).find((l) => l.name === name);
  }

  /** An alert started firing (MLOPS_RETRAIN_ON_ALERT): retrain unless one runs or the cool-down holds; a log line either way. */
  onAlert(alert: AlertState): void {
    this.start({ trigger: `alert:${alert.rule}` }, true).then(
      (r) => this.o.log.info(`alert ${alert.rule}: retraining ${r.model} (run ${r.runId})`),
      (err: Error) => this.o.log.warn(`alert ${alert.rule}: no retraining: ${isMlopsError(err) ? err.message : String(err)}`),
    );
  }

  private async launch(version: ModelVersion, mode: 'append' | 'replace', trigger: string, lease: HeldLease): Promise<RetrainResponse> {
    const what = `${version.model} version ${version.version}`;
    const runId = version.lineage.runId;
    if (!runId) throw errors.retrainNoPipeline(what, 'it was imported, not trained by a pipeline here');
    const run = await this.o.registry.runs.get(runId);
    const original = version.params.data;
    if (typeof original !== 'string') throw errors.retrainNoPipeline(what, `its pipeline ${run.pipeline} has no 'data' param`);
    const labelled = await this.o.labelled(version);
    const dir = path.join(this.o.dataDir, 'retrain');
    fs.mkdirSync(dir, { recursive: true });
    const data = path.join(dir, `${version.model}-${version.version}-${Date.now()}.csv`);
    const rows = writeRetrainData(data, mode, fs.existsSync(original) ? original : null, version.signature, labelled);
    await this.pinChampion(version);
    const params: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(version.params)) if (['string', 'number', 'boolean'].includes(typeof v)) params[k] = v as string;
    params.data = data;
    const started = this.o.runs.start({ pipeline: run.pipelineFile, params, trigger });
    const done = this.o.runs.finished(started)!.then(async () => {
      // The cool-down starts when the run ends, for alerts on every replica.
      await this.o.registry.leases.acquire(`retrain-cooldown:${version.model}`, this.holder, this.o.cooldownSec * 1000).catch(() => false);
      await lease.release().catch(() => undefined);
      return this.finish(started, version);
    });
    this.running = { runId: started, done };
    this.o.log.info(`retraining ${what} (run ${started}, ${trigger}): ${rows} rows, ${labelled.length} labelled, data ${mode}`);
    return { runId: started, model: version.model, fromVersion: version.version, data: mode, rows, labelledRows: labelled.length };
  }

  /**
   * A server following `production` that has none serves `latest`, which the new version would become:
   * production is set to the served version first, so that the champion stays until a person promotes.
   */
  private async pinChampion(version: ModelVersion): Promise<void> {
    if (this.o.selector !== null) return;
    const detail = await this.o.registry.models.versions(version.model);
    if (detail.some((v) => v.aliases.includes('production'))) return;
    await this.o.registry.models.setAlias(version.model, 'production', version.version, 'retrain: keep the champion');
    this.o.aliasesMoved();
  }

  private async finish(runId: string, from: ModelVersion): Promise<RetrainOutcome> {
    const record = await this.o.registry.runs.get(runId);
    const registered = record.registered;
    if (record.status !== 'succeeded' || !registered) {
      this.o.log.warn(errors.retrainEnded(runId, record.status, record.error).message);
      return { runId, status: record.status, challenger: null };
    }
    await this.o.registry.models.setAlias(
      registered.model,
      this.o.challengerAlias,
      registered.version,
      `retrain of version ${from.version}`,
    );
    this.o.aliasesMoved();
    this.o.log.info(`retraining run ${runId}: ${registered.model} version ${registered.version} is the ${this.o.challengerAlias}`);
    return { runId, status: record.status, challenger: registered };
  }
}
