import fs from 'node:fs';
import path from 'node:path';
import { EXIT, type GitInfo, type ModelVersion, type RunStatus } from '../../common/contract';
import { errors, isMlopsError, isUsageError } from '../../common/errors';
import { failpoint } from '../../common/failpoint';
import { HeldLease, leaseHolder, openRegistry, runLeaseMs, runLeaseName, type Registry } from '../../common/registry';
import type { CardEvidence, PipelineCard } from '../../common/model-card';
import { checkPipelineCard, writeCardOf } from '../card/write';
import { resolveParams, type ParamSpecs, type ParamValues } from '../sdk/params';
import { isCommandStep, isNotebookStep, type StepContext } from '../sdk/pipeline';
import { artifactFolder } from './artifacts';
import type { Cancellation } from './cancellation';
import { runCommandStep } from './command-step';
import { executedNotebookName, runNotebookStep, type NotebookRun } from './notebook-step';
import { snapshotFiles, writtenSince } from './step-environment';
import { EventSink } from './events';
import { gitInfo } from '../../common/git';
import { loadPipeline, type LoadedPipeline } from './load';
import { StepCache, stepKind, type Reused, type StepWatch } from './step-cache';

export interface RunOptions {
  runId: string;
  pipelineFile: string;
  /** `key=value` params as the user typed them. */
  params: Record<string, string>;
  /** Print stack traces of unexpected errors on stderr. */
  verbose: boolean;
  /** Cancels the run: the cancel file, SIGTERM/SIGINT, or the parent's death (cancellation.ts). */
  cancellation: Cancellation;
  /** Why the run was started (RunRecord.trigger); default "manual". */
  trigger?: string;
  /** Run every step, ignoring the step cache. */
  noCache?: boolean;
}

interface Outcome {
  status: RunStatus;
  error: string | null;
  registered?: { model: string; version: number };
  /** The run failed on the user's input (a param), not in a step. */
  usage?: boolean;
}

function exitCode(outcome: Outcome, cancelledBy: 'SIGINT' | 'SIGTERM'): number {
  switch (outcome.status) {
    case 'succeeded':
      return EXIT.ok;
    case 'rejected':
      return EXIT.rejected;
    case 'cancelled':
      return cancelledBy === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
    default:
      return outcome.usage ? EXIT.usage : EXIT.failed;
  }
}

/** Runs one pipeline from start to end in this process; returns the exit code. */
export async function executeRun(opts: RunOptions): Promise<number> {
  const registry = await openRegistry();
  try {
    return await new RunExecution(registry, opts).execute();
  } finally {
    await registry.close();
  }
}

type MetricFn = (name: string, value: number) => void;
type LogFn = (level: 'info' | 'warn', message: string) => void;

class RunExecution {
  private readonly events: EventSink;
  private readonly runDir: string;
  private readonly outputs = new Map<string, unknown>();
  private card: PipelineCard | null = null;
  private git: GitInfo = { commit: null, branch: null, dirty: null };
  private pipelineName = '';
  private params: ParamValues<ParamSpecs> = {};
  private registered: { model: string; version: number } | undefined;
  private stepCache: StepCache | undefined;
  /** Steps that registered a model: never reused from the cache. */
  private readonly registering = new Set<string>();
  private readonly writes = new PendingWrites();

  constructor(
    private readonly registry: Registry,
    private readonly opts: RunOptions,
  ) {
    this.events = new EventSink(opts.runId, process.env, () => opts.cancellation.cancel('its parent process exited (event pipe closed)'));
    this.runDir = registry.runDir(opts.runId);
  }

  async execute(): Promise<number> {
    // The lease tells hosts that cannot see this runner's pid that it is alive (runs.ts abandoned): taken
    // before the run is recorded, so that no one ever sees the run without it, and renewed until it ends.
    const lease = await HeldLease.take(this.registry.leases, runLeaseName(this.opts.runId), leaseHolder(), runLeaseMs());
    if (!lease) throw errors.runIdInUse(this.opts.runId);
    try {
      return await this.recordedRun();
    } finally {
      await lease.release().catch(() => undefined); // one not released expires on its own
    }
  }

  private async recordedRun(): Promise<number> {
    const { runId, pipelineFile } = this.opts;
    fs.mkdirSync(path.join(this.runDir, 'logs'), { recursive: true });
    this.events.attachFile(path.join(this.runDir, 'events.jsonl'));
    this.git = gitInfo(path.dirname(path.resolve(pipelineFile)));
    this.pipelineName = path.basename(pipelineFile).replace(/\.[cm]?[jt]s$/, '');
    await this.registry.runs.create(
      {
        id: runId,
        pipeline: this.pipelineName,
        pipelineFile: path.resolve(pipelineFile),
        params: this.opts.params,
        runDir: this.runDir,
        pid: process.pid,
        git: this.git,
        trigger: this.opts.trigger,
      },
      [],
    );
    const started = Date.now();
    const outcome = await this.runPipeline();
    await this.writes.flush().catch(() => undefined); // a failed write has failed its step already
    await this.registry.runs.finish(runId, outcome.status, outcome.error, outcome.registered);
    const code = exitCode(outcome, this.opts.cancellation.signalName);
    this.events.emit({
      type: 'run.finished',
      status: outcome.status,
      durationMs: Date.now() - started,
      exitCode: code,
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(outcome.registered ? { registered: outcome.registered } : {}),
    });
    this.events.close();
    return code;
  }

  /** The model card, once the version is committed; a card that cannot be written is a warning, not a failed run. */
  private async writeCard(
    version: ModelVersion,
    evidence: CardEvidence | undefined,
    log: (level: 'warn', message: string) => void,
  ): Promise<void> {
    try {
      await this.writes.flush(); // the step's artifacts so far are on the card
      const artifacts = (await this.registry.runs.get(this.opts.runId)).artifacts;
      writeCardOf(version, this.card, { ...evidence, artifacts });
    } catch (err) {
      log('warn', `model card not written (the server renders it from the version): ${(err as Error).message.split('\n')[0]}`);
    }
  }

  private async runPipeline(): Promise<Outcome> {
    let current: string | null = null;
    const { cancellation } = this.opts;
    try {
      const loaded = loadPipeline(this.opts.pipelineFile);
      this.pipelineName = loaded.pipeline.name;
      this.card = checkPipelineCard(loaded.file, loaded.pipeline.card);
      this.params = resolveParams(loaded.pipeline.name, loaded.pipeline.params, this.opts.params, (value, isDefault) =>
        path.resolve(isDefault ? loaded.dir : process.cwd(), value),
      );
      await this.registry.runs.setPipeline(this.opts.runId, loaded.pipeline.name, this.params);
      this.stepCache = new StepCache({
        registry: this.registry,
        runId: this.opts.runId,
        runDir: this.runDir,
        loaded,
        params: this.params,
        noCache: this.opts.noCache ?? false,
      });
      await this.registry.runs.addSteps(
        this.opts.runId,
        loaded.order.map((name) => {
          const step = loaded.pipeline.steps[name];
          return { name, kind: stepKind(step), needs: step.needs ?? [] };
        }),
      );
      this.events.emit({ type: 'run.started', pipeline: loaded.pipeline.name, params: this.params, steps: loaded.order });
      for (const [index, name] of loaded.order.entries()) {
        if (cancellation.check()) return { status: 'cancelled', error: `cancelled before step '${name}': ${cancellation.reason}` };
        current = name;
        await this.runStep(loaded, name, index);
      }
      return { status: 'succeeded', error: null, registered: this.registered };
    } catch (err) {
      if (cancellation.requested) return { status: 'cancelled', error: `cancelled during step '${current}': ${cancellation.reason}` };
      const rejected = isMlopsError(err) && err.code === 'GATE_REJECTED';
      if (this.opts.verbose && !isMlopsError(err)) process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      const usage = current === null && isUsageError(err);
      return { status: rejected ? 'rejected' : 'failed', error: this.describe(err, current), usage };
    }
  }

  private async runStep(loaded: LoadedPipeline, name: string, index: number): Promise<void> {
    const { runId } = this.opts;
    const step = loaded.pipeline.steps[name];
    const total = loaded.order.length;
    const logFile = path.join(this.runDir, 'logs', `${name}.log`);
    const log = (level: 'info' | 'warn' | 'error', message: string) => {
      fs.appendFileSync(logFile, `${new Date().toISOString()} ${level.toUpperCase()} ${message}\n`);
      this.events.emit({ type: 'log', step: name, level, message });
    };
    const metric = (metricName: string, value: number) => {
      this.writes.add(this.registry.runs.recordMetric(runId, name, metricName, value));
      this.events.emit({ type: 'metric', step: name, name: metricName, value });
    };
    await this.registry.runs.stepStarted(runId, name);
    this.events.emit({ type: 'step.started', step: name, index, total });
    failpoint(`step.${name}`);
    const started = performance.now();
    // A notebook step's executed copy (<run dir>/<step>.ipynb), kept also when the notebook failed (or linked, when reused).
    const notebook = isNotebookStep(step) ? executedNotebookName(name) : undefined;
    const finished = async (status: 'succeeded' | 'failed' | 'rejected' | 'cached', error?: string, reused?: Reused) => {
      const durationMs = performance.now() - started;
      const copy = notebook && fs.existsSync(path.join(this.runDir, notebook)) ? { notebook } : {};
      const cached = reused ? { cachedFrom: reused.origin } : {};
      await this.writes.flush();
      await this.registry.runs.stepFinished(runId, name, status, durationMs, error, { ...copy, ...cached });
      this.events.emit({ type: 'step.finished', step: name, index, total, status, durationMs, ...(error ? { error } : {}), ...cached });
    };
    const artifacts = artifactFolder(path.join(this.runDir, 'artifacts'), (a) =>
      this.writes.add(this.registry.runs.recordArtifact(runId, a, name)),
    );
    const reused = await this.reuse(name, artifacts.dir, log, metric);
    if (reused) return await finished('cached', undefined, reused);
    const watch = this.stepCache!.watch(name, artifacts);
    try {
      if (isCommandStep(step) || isNotebookStep(step)) {
        const before = snapshotFiles(artifacts.dir);
        const run: NotebookRun = {
          step: name,
          runId,
          runDir: this.runDir,
          artifactsDir: artifacts.dir,
          pipelineDir: loaded.dir,
          params: this.params,
          logFile,
          onLine: (line) => log('info', line),
          onProgress: (current, total, message) => {
            log('info', message);
            this.events.emit({ type: 'step.progress', step: name, current, total, message });
          },
          signal: this.opts.cancellation.signal,
        };
        const metrics = isCommandStep(step) ? await runCommandStep(step, run) : await runNotebookStep(step, run);
        for (const [k, v] of Object.entries(metrics)) metric(k, v);
        for (const written of new Set([...(step.produces ?? []), ...writtenSince(artifacts.dir, before)])) {
          await this.registry.runs.recordArtifact(runId, written, name);
        }
      } else {
        const ctx = this.context(name, log, metric, watch);
        this.outputs.set(name, await step.run(ctx));
      }
      await this.remember(name, watch, log);
      await finished('succeeded');
    } catch (err) {
      const message = this.describe(err, name);
      if (!isMlopsError(err)) fs.appendFileSync(logFile, `${(err as Error).stack ?? String(err)}\n`);
      log('error', message);
      await finished(isMlopsError(err) && err.code === 'GATE_REJECTED' ? 'rejected' : 'failed', message);
      throw err;
    }
  }

  private context(
    step: string,
    log: (level: 'info' | 'warn' | 'error', message: string) => void,
    metric: (name: string, value: number) => void,
    watch: StepWatch,
  ): StepContext<ParamValues<ParamSpecs>> {
    return {
      params: watch.params,
      runId: this.opts.runId,
      runDir: this.runDir,
      step,
      artifacts: watch.artifacts,
      log: (m) => log('info', m),
      warn: (m) => log('warn', m),
      metric,
      signal: this.opts.cancellation.signal,
      throwIfCancelled: () => this.opts.cancellation.throwIfCancelled(),
      input: <T>(from: string): T => {
        if (!this.outputs.has(from)) throw errors.stepFailed(step, `no output from step '${from}' (is it in this step's needs?)`);
        return this.outputs.get(from) as T;
      },
      register: async (req): Promise<ModelVersion> => {
        // The last look before anything becomes visible in the registry: a cancelled run registers nothing.
        this.opts.cancellation.throwIfCancelled();
        const { card, ...request } = req;
        const version = await this.registry.models.register({
          ...request,
          params: this.params,
          lineage: { runId: this.opts.runId, pipeline: this.pipelineName, git: this.git, dataFiles: req.dataFiles },
        });
        this.registered = { model: version.model, version: version.version };
        this.registering.add(step);
        log('info', `registered ${version.model} version ${version.version} (sha256 ${version.sha256.slice(0, 12)})`);
        await this.writeCard(version, card, log);
        return version;
      },
      reject: (reasons): never => {
        throw errors.gateRejected(reasons);
      },
    };
  }

  /**
   * The step's results from an earlier run (step-cache.ts), recorded as this run's; null when it
   * must run. The cache only saves time: when reusing fails, the step runs and the log says why.
   */
  private async reuse(name: string, artifactsDir: string, log: LogFn, metric: MetricFn): Promise<Reused | null> {
    let reused: Reused | null;
    try {
      reused = await this.stepCache!.reuse(name, artifactsDir, (m) => log('info', m));
    } catch (err) {
      log('warn', `step cache: ${(err as Error).message.split('\n')[0]}; running the step`);
      return null;
    }
    if (!reused) return null;
    for (const a of reused.artifacts) await this.registry.runs.recordArtifact(this.opts.runId, a, name);
    for (const m of reused.metrics) metric(m.name, m.value);
    if (reused.value !== undefined) this.outputs.set(name, reused.value);
    log('info', `cached: reused run ${reused.origin} (its log: ${path.join(this.registry.runDir(reused.origin), 'logs', `${name}.log`)})`);
    return reused;
  }

  /** Notes what a step that ran produced, for later runs to reuse, and records every file it wrote as its artifact. */
  private async remember(name: string, watch: StepWatch, log: (level: 'warn', message: string) => void): Promise<void> {
    try {
      const written = await watch.done(this.outputs.get(name), this.registering.has(name));
      for (const a of written) await this.registry.runs.recordArtifact(this.opts.runId, a, name);
    } catch (err) {
      log('warn', `step cache: could not record the step (${(err as Error).message.split('\n')[0]}); later runs will run it again`);
    }
  }

  /** One line for the user: our own errors as they are; anything else names the step. */
  private describe(err: unknown, step: string | null): string {
    if (isMlopsError(err)) return err.message;
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    return step ? errors.stepFailed(step, message).message : message;
  }
}

/**
 * Registry writes started from synchronous callbacks (ctx.metric, an artifact written), so that the
 * step API stays synchronous: awaited, in order, before the step is recorded as finished; the
 * first that failed fails the step.
 */
class PendingWrites {
  private pending: Promise<void>[] = [];

  add(write: Promise<void>): void {
    write.catch(() => undefined); // reported by flush(), not as an unhandled rejection
    this.pending.push(write);
  }

  async flush(): Promise<void> {
    const writes = this.pending;
    this.pending = [];
    await Promise.all(writes);
  }
}
