import path from 'node:path';
import type { StartRunRequest } from '../common/contract';
import { packageRoot } from '../common/config';
import { errors } from '../common/errors';
import { startRun, type StartedRun } from '../pipeline/runner/spawn';
import type { EventBus } from './event-bus';

/** Pipeline runs started through the server: each a runner process whose events go on the bus. */
export class RunManager {
  private readonly active = new Map<string, StartedRun>();

  constructor(
    private readonly bus: EventBus,
    private readonly dataDir: string,
    private readonly defaultPipeline: string,
    private readonly onFinished: () => void,
    private readonly log: (line: string) => void,
  ) {}

  start(req: StartRunRequest): string {
    const pipelineFile = this.pipelinePath(req.pipeline);
    const params = Object.fromEntries(Object.entries(req.params ?? {}).map(([k, v]) => [k, String(v)]));
    const run = startRun({
      pipelineFile,
      params,
      trigger: req.trigger,
      noCache: req.noCache,
      env: { ...process.env, MLOPS_DATA_DIR: this.dataDir },
      onEvent: (event) => this.bus.publish({ type: 'run', event }),
      onOutput: (line) => this.log(line),
    });
    this.active.set(run.runId, run);
    void run.done.then(() => {
      this.active.delete(run.runId);
      this.onFinished();
    });
    return run.runId;
  }

  cancel(runId: string): boolean {
    const run = this.active.get(runId);
    run?.cancel();
    return run !== undefined;
  }

  /** When a run started here ends: its runner's exit; undefined when it is not running here. */
  finished(runId: string): StartedRun['done'] | undefined {
    return this.active.get(runId)?.done;
  }

  ids(): string[] {
    return [...this.active.keys()];
  }

  async stopAll(): Promise<void> {
    for (const run of this.active.values()) run.cancel();
    await Promise.all([...this.active.values()].map((r) => r.done));
  }

  /** Pipelines run code: only modules inside the project (or the bundled examples) may be started. */
  private pipelinePath(requested: string | undefined): string {
    if (!requested) return this.defaultPipeline;
    const file = path.resolve(requested);
    const inside = [process.cwd(), packageRoot()].some((root) => !path.relative(root, file).startsWith('..'));
    if (!inside || !/\.[cm]?[jt]s$/.test(file)) {
      throw errors.badPipelinePath(requested);
    }
    return file;
  }
}
