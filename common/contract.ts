// Every type that crosses a process boundary lives here: runner → server/CLI events,
// registry records read by the server and the extension, HTTP bodies.
// Types and a few constants only, with no imports: the extension host and the metrics webview import
// it too, and must never pull in a native module. Runtime checks live in their own modules
// (the webview's messages: common/webview-messages.ts).

// ---------------------------------------------------------------------------------------
// The typed model signature: what a version takes and gives. One definition, read by the registry,
// the server (validation, OIP, /docs, drift, logs), the CLI and the extension. Runtime helpers
// (checks, the v1 migration, OIP datatypes) are in common/signature.ts.

/** Element type of an ONNX tensor, named as onnxruntime-node names it. */
export type TensorType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'string';

/** One ONNX input of the model. */
export interface InputSpec {
  name: string;
  type: TensorType;
  /** Feature columns in it: the tensor is [N, width], or [N] when rank is 1. */
  width: number;
  rank: 1 | 2;
}

/**
 * A feature of a model's input, in signature order (the order of /predict's records and of the
 * training CSV's columns). Its JSON type in a record follows its tensor type: float → number,
 * int → integer, bool → boolean, string → string.
 */
export interface FeatureSpec {
  name: string;
  type: TensorType;
  /** The ONNX input that carries it, and its column there (0 for a per-column input). */
  input: string;
  column: number;
  /** Range observed in the training data (numeric features). */
  min?: number;
  max?: number;
  /** A categorical feature: the categories seen in training, as strings. String features always have them. */
  categories?: string[];
  /** Refuse a category not in `categories` with a 4xx; by default it is accepted and counted as unseen. */
  strict?: boolean;
  /** null is accepted as a missing value (NaN in a float input). */
  nullable?: boolean;
}

export type ModelTask = 'classification' | 'regression';

interface SignatureBase {
  /** Signature format; versions registered before typed signatures are migrated to 2 (common/signature.ts). */
  schema: 2;
  inputs: InputSpec[];
  features: FeatureSpec[];
}

export interface ClassificationSignature extends SignatureBase {
  task: 'classification';
  /** Name of the predicted field: /predict answers [{ [target]: label }]. */
  target: string;
  /** ONNX output holding the predicted label, [N]. */
  labelOutput: string;
  /**
   * What labelOutput holds: 'index' an int64 index into classLabels (this project's trainers);
   * 'int64' int64 class values, whose decimal forms are classLabels (answered as numbers);
   * 'string' the labels themselves.
   */
  labelKind: 'index' | 'int64' | 'string';
  /** ONNX output holding class probabilities, float32 [N, classLabels.length], or null if the model has none. */
  probabilitiesOutput: string | null;
  classLabels: string[];
}

export interface RegressionSignature extends SignatureBase {
  task: 'regression';
  /** One name per predicted value: /predict answers [{ [targets[0]]: 151.2, … }]. */
  targets: string[];
  /** ONNX output holding the values, float [N] or [N, targets.length]. */
  valueOutput: string;
}

export type ModelSignature = ClassificationSignature | RegressionSignature;

/** Distribution of a numeric column in the training data (a feature or a regression target). */
export interface NumericDistribution {
  count: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Deciles: quantiles at 0.1 … 0.9. */
  quantiles: number[];
  /** Histogram bin edges (length bins + 1) and the training share of rows in each bin. */
  binEdges: number[];
  binShares: number[];
}

/** Per-feature training distribution, kept with each version for drift monitoring. */
export type FeatureReference =
  | (NumericDistribution & { name: string; kind: 'numeric' })
  | {
      name: string;
      kind: 'categorical';
      count: number;
      /** Categories seen in training (strings) and the training share of each. */
      categories: string[];
      shares: number[];
    };

export interface TrainingReference {
  rows: number;
  features: FeatureReference[];
  /** Classification: share of training rows per class, in signature classLabels order. */
  classShares?: number[];
  /** Regression: the training distribution of each target, in signature targets order. */
  targets?: NumericDistribution[];
}

// ---------------------------------------------------------------------------------------
// Registry records (SQLite rows as the server API, the CLI --json and the extension see them)

export interface GitInfo {
  commit: string | null;
  branch: string | null;
  dirty: boolean | null;
}

export interface DataFileRef {
  path: string;
  sha256: string;
}

export interface Lineage {
  runId: string | null;
  pipeline: string | null;
  git: GitInfo;
  dataFiles: DataFileRef[];
  /** Set for a model trained elsewhere and imported (mlops models register): the file as given, before any rewrite. */
  imported?: { file: string; sha256: string; by: string };
}

export interface ModelVersion {
  model: string;
  version: number;
  /** Path of model.onnx, absolute. */
  path: string;
  sha256: string;
  signature: ModelSignature;
  metrics: Record<string, number>;
  params: Record<string, unknown>;
  lineage: Lineage;
  reference: TrainingReference;
  createdAt: string;
  /** Aliases currently pointing at this version (latest included when it is the newest). */
  aliases: string[];
}

export interface ModelSummary {
  name: string;
  versions: number;
  latest: number;
  aliases: Record<string, number>;
  createdAt: string;
  updatedAt: string;
}

export interface AliasMove {
  id: number;
  model: string;
  alias: string;
  fromVersion: number | null;
  toVersion: number;
  at: string;
  /** Who or what moved it: "cli", "extension", "server", a user name… */
  by: string;
  /** The alias was removed (toVersion is the version it left), e.g. the challenger once promoted. */
  removed?: boolean;
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'rejected' | 'cancelled';
/** `cached`: skipped because an earlier successful run computed the same (StepRecord.cachedFrom names it). */
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'rejected' | 'skipped' | 'cached';
/** How a step runs: a TypeScript function in the runner, a command (any language), or a Jupyter notebook. */
export type StepKind = 'function' | 'command' | 'notebook';

export interface StepRecord {
  name: string;
  index: number;
  status: StepStatus;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  logFile: string;
  error: string | null;
  kind: StepKind;
  /** The steps it waits for (definePipeline's `needs`): the DAG's edges. */
  needs: string[];
  /** Run id whose results a cached step reused; null when it ran. */
  cachedFrom: string | null;
  /** Files this step wrote (or reused), relative to the run's artifacts folder. */
  artifacts: string[];
  /** Notebook steps: the executed copy (outputs included), relative to the run folder, e.g. "train.ipynb". */
  notebook: string | null;
}

export interface RunRecord {
  id: string;
  pipeline: string;
  pipelineFile: string;
  params: Record<string, unknown>;
  status: RunStatus;
  error: string | null;
  runDir: string;
  pid: number | null;
  git: GitInfo;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  steps: StepRecord[];
  metrics: Record<string, number>;
  artifacts: string[];
  registered: { model: string; version: number } | null;
  /** Why it ran: "manual" (default), "alert:<rule>" for a retraining an alert started, "schedule"… */
  trigger: string;
  /** The host its runner ran on (MLOPS_HOST_ID, else the hostname); null for runs recorded before hosts were. */
  host?: string | null;
}

// ---------------------------------------------------------------------------------------
// Runner events. The runner writes one JSON object per line to file descriptor 3 when it was
// started with MLOPS_EVENTS_FD=3 (the server and the CLI do so), and always appends the same
// lines to <run dir>/events.jsonl. See pipeline/runner/events.ts.

interface EventBase {
  runId: string;
  /** ISO time. */
  at: string;
}

export type RunEvent =
  | (EventBase & { type: 'run.started'; pipeline: string; params: Record<string, unknown>; steps: string[] })
  | (EventBase & { type: 'step.started'; step: string; index: number; total: number })
  /** Progress inside a step, e.g. a notebook's "cell 3 of 12". */
  | (EventBase & { type: 'step.progress'; step: string; current: number; total: number; message: string })
  | (EventBase & {
      type: 'step.finished';
      step: string;
      index: number;
      total: number;
      status: StepStatus;
      durationMs: number;
      error?: string;
      /** status 'cached': the run whose results were reused. */
      cachedFrom?: string;
    })
  | (EventBase & { type: 'metric'; step: string; name: string; value: number })
  | (EventBase & { type: 'log'; step: string | null; level: 'info' | 'warn' | 'error'; message: string })
  | (EventBase & {
      type: 'run.finished';
      status: RunStatus;
      durationMs: number;
      exitCode: number;
      error?: string;
      registered?: { model: string; version: number };
    });

/**
 * Exit codes of the `mlops` command and the runner, defined once (README "Exit codes"):
 * 0 ok; 1 failed; 2 usage error (a bad flag, param or model URI: fix the command line); 3 rejected
 * by the quality gate (the run worked, the model was not good enough); 130 and 143 cancelled by
 * SIGINT and SIGTERM (128 + the signal's number, as shells report a death by signal).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, rejected: 3, interrupted: 130, terminated: 143 } as const;

// ---------------------------------------------------------------------------------------
// Serving: drift, prediction log, server status (server → extension, CLI)

export type FeatureDrift =
  | {
      name: string;
      kind: 'numeric';
      /** Population stability index of the window against the training histogram. */
      psi: number;
      /** Kolmogorov–Smirnov statistic (largest CDF gap) against the training quantiles. */
      ks: number;
      /** Mean of the window. */
      mean: number;
    }
  | {
      name: string;
      kind: 'categorical';
      /** PSI of the window's category shares against training's (unseen categories as one more bucket). */
      psi: number;
      /** Share of the window's rows whose category was never seen in training. */
      unseenShare: number;
      /** The window's share of each training category, in the reference's order. */
      shares: number[];
      categories: string[];
    };

/** Drift of a regression model's predictions against the training target distribution. */
export interface TargetDrift {
  name: string;
  psi: number;
  ks: number;
  mean: number;
  /** Deciles of the window's predictions, like NumericDistribution.quantiles. */
  quantiles: number[];
  /** The window's share in each training bin (for the chart), like NumericDistribution.binShares. */
  binShares: number[];
}

export interface DriftSnapshot {
  /** Rows currently in the window (≤ windowSize). */
  windowRows: number;
  windowSize: number;
  features: FeatureDrift[];
  /** Classification: predicted classes; null for regression. */
  classes: {
    labels: string[];
    /** Share of each predicted class in the window. */
    shares: number[];
    /** PSI and Jensen–Shannon distance (base 2, 0…1) against the training class shares. */
    psi: number;
    jensenShannon: number;
  } | null;
  /** Regression: the predictions per target; null for classification. */
  targets: TargetDrift[] | null;
}

/** One logged prediction (one input row). */
export interface PredictionLogEntry {
  /** Epoch milliseconds. */
  at: number;
  requestId: string;
  model: string;
  version: number;
  /** Feature name → value as sent (redacted fields are absent; null is a missing value). */
  inputs: Record<string, number | string | boolean | null>;
  /** Classification: the predicted label; null for regression. */
  label: string | null;
  probabilities: number[] | null;
  /** Regression: the predicted value per target; null for classification. */
  values: number[] | null;
  latencyMs: number;
  /** A challenger's shadow prediction (not what the caller got); absent or false for answers sent. */
  shadow?: boolean;
}

export interface PredictionLogStats {
  enabled: boolean;
  queued: number;
  written: number;
  dropped: number;
  flushes: number;
  /** Whether the writer reaches its database (PostgreSQL may be down; rows queue meanwhile), and since when (epoch ms). */
  database?: 'ok' | 'unreachable';
  databaseSince?: number;
}

/** The version the server serves now. */
export interface ServingInfo {
  model: string;
  version: number;
  sha256: string;
  /** What the server follows: an alias, "latest", or a pinned version number. */
  selector: string | number;
  aliases: string[];
  loadedAt: string;
  signature: ModelSignature;
  metrics: Record<string, number>;
}

/** Serving figures over the last second (the event stream sends one per second). */
export interface ServingStats {
  at: string;
  requestsPerSecond: number;
  errorsPerSecond: number;
  rowsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number };
  /** Predictions per class since the server started. */
  predictionsByClass: Record<string, number>;
  totalRequests: number;
  totalErrors: number;
}

export interface ServerStatus {
  version: string;
  pid: number;
  startedAt: string;
  dataDir: string;
  ready: boolean;
  serving: ServingInfo | null;
  /** Why the server is not serving, or why the last swap was refused. */
  lastError: string | null;
  predictionLog: PredictionLogStats;
  activeRuns: string[];
}

/** Server-Sent Events on GET /api/events: the SSE `event:` field is `type`, `data:` the JSON. */
export type ServerEvent =
  | { type: 'run'; event: RunEvent }
  | { type: 'registry'; at: string }
  | { type: 'serving'; serving: ServingInfo | null; error: string | null }
  | { type: 'stats'; stats: ServingStats }
  /** An alert rule started or stopped firing (server/alerts). */
  | { type: 'alert'; alert: AlertState }
  /** The challenger changed: set, mode changed, canary stopped, promoted, removed. */
  | { type: 'challenger'; challenger: ChallengerInfo | null; reason: string };

// HTTP bodies of the management API (/api)
export interface StartRunRequest {
  /** Pipeline module path; default: the server's default pipeline. */
  pipeline?: string;
  params?: Record<string, string | number | boolean>;
  /** Run every step, ignoring the step cache (`mlops train --no-cache`). */
  noCache?: boolean;
  /** Why the run was started, recorded with it, e.g. "alert:drift_psi" for a retraining (RunRecord.trigger). */
  trigger?: string;
}
export interface StartRunResponse {
  runId: string;
}
export interface PromoteRequest {
  version: number;
  /** Who moves the alias (recorded in the alias history); default "api". */
  by?: string;
}
/**
 * POST /api/models/import (and `mlops models register FILE.onnx`): registers an ONNX file trained
 * elsewhere, evaluated on a CSV. Paths are read by the server, on its machine. Answers the new ModelVersion (201).
 */
export interface ImportModelRequest {
  /** The .onnx file. */
  file: string;
  /** Registry name of the model. */
  name: string;
  /** CSV with the feature columns and the target: the training reference and the evaluation come from it. */
  data: string;
  /** The target column. */
  target: string;
  /** Default: read from the model's outputs (a label output: classification). */
  task?: ModelTask;
  /** CSV columns in the order of a single [N, F] input; default: match inputs to columns by name. */
  features?: string[];
  /** Apply the quality gate (the example pipelines' thresholds); default false. */
  gate?: boolean;
  /** Recorded in the lineage as who imported it; default the API's caller ("api"). */
  by?: string;
}
/** GET /api/models/:name: versions (newest first) and every alias move. */
export interface ModelDetail {
  name: string;
  versions: ModelVersion[];
  history: AliasMove[];
}
/** GET /api/registry: every model with its versions (newest first), read at one point in time. */
export interface RegistrySnapshot {
  models: { model: ModelSummary; versions: ModelVersion[] }[];
}
export interface ApiError {
  error: string;
  code?: string;
}

/** Response header naming the model version that produced a prediction. */
export const MODEL_VERSION_HEADER = 'x-model-version';

/** What `mlops loadtest --json` prints and writes (and the extension charts). */
export interface LoadTestResult {
  url: string;
  connections: number;
  durationSeconds: number;
  rowsPerRequest: number;
  requests: number;
  requestsPerSecond: number;
  rowsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
  non2xx: number;
  timeouts: number;
  /** Requests per second, second by second. */
  timeline: number[];
  startedAt: string;
}

// ---------------------------------------------------------------------------------------
// The metrics webview's messages, extension → webview. The other direction, untrusted input, is
// common/webview-messages.ts.

export interface MonitoringSnapshot {
  serving: ServingInfo | null;
  drift: DriftSnapshot | null;
  /** Live quality of the served version from ground-truth feedback; null when the log or feedback is off. */
  quality: LiveQuality | null;
  challenger: ChallengerInfo | null;
  /** Every rule's state, firing or not. */
  alerts: AlertState[];
}

export type ToWebview =
  | { type: 'status'; status: ServerStatus | null; error: string | null }
  | { type: 'monitoring'; monitoring: MonitoringSnapshot }
  | { type: 'stats'; stats: ServingStats }
  | { type: 'loadtest'; result: LoadTestResult }
  /** The version whose evaluation the webview shows (the served one unless one was picked). */
  | { type: 'version'; view: VersionView | null }
  /** An alert rule started or stopped firing. */
  | { type: 'alert'; alert: AlertState }
  /** The served version's training reference, which the drift charts compare the window with. */
  | { type: 'reference'; reference: TrainingReference | null }
  /** The challenger beside the champion (null: none), from the 'challenger' events. */
  | { type: 'challenger'; challenger: ChallengerInfo | null };

/** A model version in the metrics webview: its metrics, typed inputs and evaluation pictures. */
export interface VersionView {
  model: string;
  version: number;
  served: boolean;
  signature: ModelSignature;
  metrics: Record<string, number>;
  /** Pictures from its run's artifacts (webview URIs), or why there are none. */
  pictures: { name: string; caption: string; src: string }[];
  picturesNote: string | null;
}

// ---------------------------------------------------------------------------------------
// Closing the loop: ground-truth feedback, live quality, the challenger, alerts (server → extension, CLI)

/** One ground-truth answer, POST /feedback (an array of them): the row `row` of request `requestId` really was `actual`. */
export interface FeedbackEntry {
  requestId: string;
  /** Row index within the request (0 for a one-row request). */
  row: number;
  /** Classification: a class label the model knows; regression: a number (one target). */
  actual: string | number;
}
export interface FeedbackResponse {
  /** Entries stored now. */
  accepted: number;
  /** Entries already stored with the same actual value (idempotent). */
  duplicates: number;
}

/** Quality of one version over the rolling window of its labelled predictions. */
export interface LiveQuality {
  model: string;
  version: number;
  /** Labelled predictions in the window (≤ windowSize). */
  labelled: number;
  windowSize: number;
  /** Classification: accuracy, macro F1 and recall per class label; null for regression. */
  classification: { accuracy: number; macroF1: number; recall: Record<string, number> } | null;
  /** Regression: mean absolute and root mean squared error; null for classification. */
  regression: { mae: number; rmse: number } | null;
  /** Delay between a prediction and its label, milliseconds. */
  labelDelayMs: { p50: number; max: number } | null;
}

export type ChallengerMode = 'shadow' | 'canary';

/** The challenger: the version under the challenger alias, run beside the champion. */
export interface ChallengerInfo {
  /** The alias that names it (MLOPS_CHALLENGER_ALIAS, default "challenger"). */
  alias: string;
  mode: ChallengerMode;
  /** Shadow: share of requests also run on the challenger; canary: share answered by it (0…1). */
  share: number;
  serving: ServingInfo;
  /** Set when a canary was stopped automatically (it then runs as shadow until changed). */
  stopped: { at: string; reason: string } | null;
  /** Share of compared rows where challenger and champion agree (same class, or values within tolerance). */
  agreement: number | null;
  comparedRows: number;
  /** The challenger's own latency (shadow runs included). */
  latencyMs: { p50: number; p95: number } | null;
  errors: number;
  quality: LiveQuality | null;
}

export type AlertKind = 'drift' | 'quality' | 'error_rate' | 'latency';

/** One alert rule's state (the rules: README "Alerts"; overrides in the alerts config file). */
export interface AlertState {
  /** The rule's name, e.g. "drift_psi" (the `rule` label of mlops_alert_active). */
  rule: string;
  kind: AlertKind;
  firing: boolean;
  /** When it last started firing; null when never. */
  since: string | null;
  /** The last value evaluated, and the threshold it is compared with. */
  value: number | null;
  threshold: number;
  /** One line for people, e.g. "PSI of petal_length 0.31 > 0.2 for 3 windows". */
  message: string;
}

/** POST /api/retrain and `mlops retrain`: runs the served model's pipeline on its data plus the labelled log. */
export interface RetrainRequest {
  /** append: the labelled rows are added to the pipeline's data; replace: they are the data. Default append. */
  data?: 'append' | 'replace';
  /** Recorded with the run (RunRecord.trigger), e.g. "alert:quality_accuracy"; default "manual". */
  trigger?: string;
}
/** POST /api/retrain answers 202 with the run started (progress on /api/events, as any run's). */
export interface RetrainResponse {
  runId: string;
  model: string;
  /** The served version whose pipeline and data it starts from. */
  fromVersion: number;
  data: 'append' | 'replace';
  /** Rows of the data it trains on, of which labelled predictions. */
  rows: number;
  labelledRows: number;
}

// ---------------------------------------------------------------------------------------
// The run graph webview's messages, extension → webview ("MLOps: Show Run Graph"). The other
// direction, untrusted input, is common/webview-messages.ts (parseGraphMessage).

export type ToGraphWebview =
  /** The run as the registry has it now; sent again on each of its events while it runs. */
  | { type: 'run'; run: RunRecord }
  /** Progress inside a running step (RunEvent 'step.progress'), e.g. a notebook's cells. */
  | { type: 'progress'; step: string; current: number; total: number; message: string }
  | { type: 'error'; message: string };
