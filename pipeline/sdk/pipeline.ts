import type { ModelVersion } from '../../common/contract';
import type { CardEvidence, PipelineCard } from '../../common/model-card';
import type { NewVersion } from '../../common/registry';
import type { ParamSpecs, ParamValues } from './params';

/** Files of the run: every step reads and writes its artifacts here (<run dir>/artifacts). */
export interface Artifacts {
  readonly dir: string;
  path(name: string): string;
  exists(name: string): boolean;
  writeJson(name: string, value: unknown): string;
  readJson<T>(name: string): T;
  writeText(name: string, text: string): string;
  writeBytes(name: string, bytes: Uint8Array): string;
}

/** What the registry needs from a pipeline; lineage (run, git, params) is added by the runner. */
export type RegisterRequest = Omit<NewVersion, 'lineage' | 'params'> & {
  dataFiles: { path: string; sha256: string }[];
  /** What the model card shows beyond the version (gate results, group gaps); the runner adds the pipeline's `card`. */
  card?: CardEvidence;
};

export interface StepContext<P = Record<string, unknown>> {
  readonly params: P;
  readonly runId: string;
  readonly runDir: string;
  readonly step: string;
  readonly artifacts: Artifacts;
  /** A line in the step's log, also sent as a progress event. */
  log(message: string): void;
  warn(message: string): void;
  /** A named number of the run (accuracy, rows…), stored with the run and sent as an event. */
  metric(name: string, value: number): void;
  /** Aborted when the run is cancelled; pass it to anything that takes one (fetch, child processes). */
  readonly signal: AbortSignal;
  /**
   * Throws once the run is cancelled (or its parent process died). A step that computes for long
   * (a training loop) calls it between iterations: the runner cannot interrupt a busy step otherwise.
   * Cheap: it looks at most every 100 ms.
   */
  throwIfCancelled(): void;
  /** The value an earlier function step returned (in-memory hand-off, e.g. a trained model). */
  input<T>(step: string): T;
  /** Registers a model version in the registry (await it); lineage is filled in by the runner. */
  register(req: RegisterRequest): Promise<ModelVersion>;
  /** Ends the run as rejected (exit code 2) rather than failed: a quality gate said no. */
  reject(reasons: string[]): never;
}

/** What every kind of step may declare. */
export interface StepOptions {
  /** Steps that must finish first: the DAG's edges. */
  needs?: string[];
  description?: string;
  /** false: always run, never reuse an earlier run's results (the step cache, pipeline/runner/step-cache). */
  cache?: boolean;
  /** Files the step reads besides its params' paths (relative to the pipeline's folder): their sha256 is part of its cache key. */
  inputs?: string[];
}

export interface FunctionStep<P> extends StepOptions {
  run(ctx: StepContext<P>): unknown;
}

/**
 * A step in any language. It gets the run through the environment: MLOPS_RUN_ID, MLOPS_RUN_DIR,
 * MLOPS_STEP, MLOPS_ARTIFACTS_DIR, MLOPS_PARAMS (JSON), MLOPS_CONTEXT_FILE (all of that as a JSON
 * file) and MLOPS_METRICS_FILE (write a JSON object of name → number there to record metrics).
 */
export interface CommandStep<P = Record<string, unknown>> extends StepOptions {
  /** argv, or a function of the params giving it; `{pipelineDir}` in an element is replaced with the pipeline's folder. */
  command: string[] | ((params: P) => string[]);
  /** Artifact names the command must write; the step fails if one is missing. */
  produces?: string[];
}

/**
 * A Jupyter notebook, run cell by cell through nbclient (papermill style): the cell tagged
 * `parameters` holds defaults, the runner injects one tagged `injected-parameters` after it with the
 * run's params. The executed copy is saved as <run dir>/<step>.ipynb. It gets the environment of a
 * command step (MLOPS_*), and `import mlops_step` works in it.
 */
export interface NotebookStep extends StepOptions {
  /** The .ipynb file, relative to the pipeline's folder. */
  notebook: string;
  /** Artifact names the notebook must write; the step fails if one is missing. */
  produces?: string[];
  /** Longest a cell may run, seconds; past it the cell is interrupted and the step fails. */
  timeoutSec?: number;
  /** Jupyter kernel name; default "python3". */
  kernel?: string;
}

export type Step<P> = FunctionStep<P> | CommandStep<P> | NotebookStep;

export interface PipelineDefinition<S extends ParamSpecs> {
  name: string;
  description?: string;
  params: S;
  steps: Record<string, Step<ParamValues<S>>>;
  /** Intended use, limitations, groups and ethical review answers for the model card (docs/model-cards.md). */
  card?: PipelineCard;
}

export interface Pipeline<S extends ParamSpecs = ParamSpecs> extends PipelineDefinition<S> {
  readonly kind: 'mlops-pipeline';
}

export function definePipeline<S extends ParamSpecs>(def: PipelineDefinition<S>): Pipeline<S> {
  return { ...def, kind: 'mlops-pipeline' };
}

export function isNotebookStep<P>(step: Step<P>): step is NotebookStep {
  return typeof (step as NotebookStep).notebook === 'string';
}

export function isCommandStep<P>(step: Step<P>): step is CommandStep<P> {
  const command = (step as CommandStep<P>).command;
  return Array.isArray(command) || typeof command === 'function';
}
