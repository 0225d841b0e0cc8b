// User-facing errors, defined once with a code and a message so that the CLI, the HTTP API
// and the extension show the same words (in the manner of fastify's lib/errors.js).

export type ErrorCode =
  | 'USAGE'
  | 'UNKNOWN_PARAM'
  | 'BAD_PARAM_VALUE'
  | 'PIPELINE_LOAD'
  | 'PIPELINE_DEFINITION'
  | 'DATA_FILE'
  | 'DATA_CSV'
  | 'DATA_SCHEMA'
  | 'DATA_VALUE'
  | 'STEP_FAILED'
  | 'COMMAND_FAILED'
  | 'COMMAND_NO_OUTPUT'
  | 'PARITY'
  | 'GATE_REJECTED'
  | 'NOT_FOUND'
  | 'BAD_NAME'
  | 'REGISTRY'
  | 'REGISTRY_BUSY'
  | 'BAD_INPUT'
  | 'TOO_LARGE'
  | 'UNAUTHORIZED'
  | 'NOT_READY'
  | 'NO_PROJECT'
  | 'SERVER_START'
  | 'SERVER_UNREACHABLE'
  | 'BAD_SETTING'
  | 'LOAD_TEST'
  | 'EXTENSION_PACKAGE'
  | 'CANCELLED'
  | 'BAD_MODEL_URI'
  | 'FORBIDDEN_HOST'
  | 'CROSS_ORIGIN'
  | 'PREDICTION_LOG_BUSY'
  | 'PREDICTION_LOG_DOWN'
  | 'MODEL_REFUSED'
  | 'BAD_SIGNATURE'
  | 'SERVER_REFUSED'
  | 'ARTIFACT_CORRUPT'
  | 'INTERNAL'
  | 'ONNX_FILE'
  | 'ONNX_NON_TENSOR'
  | 'IMPORT_UNMATCHED'
  | 'IMPORT_TASK'
  | 'ALERTS_CONFIG'
  | 'RETRAIN'
  | 'NOTEBOOK_FILE'
  | 'NOTEBOOK_CELL'
  | 'NOTEBOOK_TIMEOUT'
  | 'NOTEBOOK_SETUP'
  | 'NO_CHALLENGER'
  | 'BAD_FEEDBACK'
  | 'FEEDBACK_CONFLICT'
  | 'PREDICTION_LOG_OFF'
  | 'NOTEBOOK_COPY'
  | 'SCAFFOLD'
  | 'PREDICTION_LOG_NOT_EMPTY'
  | 'DATABASE_UNREACHABLE'
  | 'REGISTRY_SCHEMA';

export class MlopsError extends Error {
  override readonly name = 'MlopsError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** HTTP status when the error answers a request. */
    readonly status = 400,
    /** Machine-readable detail sent beside the message (e.g. which feedback entries were refused). */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** True for errors whose message is meant for the user (also across module copies). */
export function isMlopsError(err: unknown): err is MlopsError {
  return err instanceof Error && err.name === 'MlopsError' && typeof (err as MlopsError).code === 'string';
}

/** Where a client of /api finds its credential (docs/security.md). */
const API_CREDENTIALS = " (send the data directory's api-token as a Bearer token, or the MLOPS_API_* credentials)";

/** Mistakes in what was typed (a bad flag value, param or model URI): exit code 2, as a bad flag is. */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['USAGE', 'UNKNOWN_PARAM', 'BAD_PARAM_VALUE', 'BAD_MODEL_URI']);

export function isUsageError(err: unknown): boolean {
  return isMlopsError(err) && USAGE_CODES.has(err.code);
}

export const errors = {
  unknownParam: (name: string, pipeline: string, known: string[]) =>
    new MlopsError('UNKNOWN_PARAM', `unknown param '${name}' for pipeline ${pipeline} (known: ${known.join(', ')})`),
  badParamValue: (name: string, expected: string, got: string) =>
    new MlopsError('BAD_PARAM_VALUE', `param '${name}' expects ${expected}, got '${got}'`),
  pipelineLoad: (file: string, reason: string) => new MlopsError('PIPELINE_LOAD', `cannot load pipeline ${file}: ${reason}`),
  pipelineDefinition: (file: string, reason: string) => new MlopsError('PIPELINE_DEFINITION', `pipeline ${file}: ${reason}`),
  dataFile: (file: string, reason: string) => new MlopsError('DATA_FILE', `${file}: ${reason}`),
  csv: (file: string, line: number, reason: string) => new MlopsError('DATA_CSV', `${file}:${line}: ${reason}`),
  schema: (file: string, reason: string) => new MlopsError('DATA_SCHEMA', `${file}:1: ${reason}`),
  dataValue: (file: string, line: number, column: string, reason: string) =>
    new MlopsError('DATA_VALUE', `${file}:${line}: column '${column}': ${reason}`),
  dataColumn: (file: string, column: string, reason: string) => new MlopsError('DATA_VALUE', `${file}: column '${column}': ${reason}`),
  stepFailed: (step: string, reason: string) => new MlopsError('STEP_FAILED', `step '${step}' failed: ${reason}`),
  commandFailed: (step: string, command: string, how: string, log: string) =>
    new MlopsError('COMMAND_FAILED', `step '${step}': command \`${command}\` ${how} (log: ${log})`),
  commandNoOutput: (step: string, command: string, missing: string, dir: string) =>
    new MlopsError('COMMAND_NO_OUTPUT', `step '${step}': command \`${command}\` exited 0 but wrote no ${missing} in ${dir}`),
  parity: (step: string, mismatches: number, rows: number, firstRow: number) =>
    new MlopsError(
      'PARITY',
      `step '${step}': ONNX labels differ from the in-memory model's on ${mismatches} of ${rows} rows (first: test row ${firstRow})`,
    ),
  valueParity: (step: string, mismatches: number, rows: number, firstRow: number, tolerance: number) =>
    new MlopsError(
      'PARITY',
      `step '${step}': ONNX values differ from the in-memory model's by more than ${tolerance} (relative) ` +
        `on ${mismatches} of ${rows} rows (first: test row ${firstRow})`,
    ),
  gateRejected: (reasons: string[]) => new MlopsError('GATE_REJECTED', `rejected by the gate: ${reasons.join('; ')}`),
  notFound: (what: string) => new MlopsError('NOT_FOUND', `${what} not found`, 404),
  badName: (kind: string, value: string, rule: string) => new MlopsError('BAD_NAME', `invalid ${kind} '${value}': ${rule}`),
  registry: (reason: string) => new MlopsError('REGISTRY', reason, 500),
  badSignature: (model: string, problems: string[]) =>
    new MlopsError('BAD_SIGNATURE', `model ${model}: its signature is inconsistent: ${problems.join('; ')}`),
  registryBackend: (url: string, reason: string) => new MlopsError('BAD_SETTING', `MLOPS_DATABASE_URL=${url}: ${reason}`),
  registryBusy: (file: string) => new MlopsError('REGISTRY_BUSY', `database ${file} is locked by another process; try again`, 503),
  extensionPackage: (dir: string, reason: string) =>
    new MlopsError('EXTENSION_PACKAGE', `cannot package the extension from ${dir}: ${reason}`),
  cancelled: (reason: string) => new MlopsError('CANCELLED', `run cancelled: ${reason}`, 409),
  badModelUri: (uri: string, reason: string) =>
    new MlopsError(
      'BAD_MODEL_URI',
      `invalid model URI '${uri}': ${reason} (expected models:/<name>/<version>, models:/<name>@<alias>, or <name>[@alias|/version])`,
    ),
  unauthorized: (scope: string) =>
    new MlopsError('UNAUTHORIZED', `authentication required for ${scope}${scope === 'api' ? API_CREDENTIALS : ''}`, 401),
  forbiddenHost: (host: string) =>
    new MlopsError('FORBIDDEN_HOST', `host '${host}' is not one this server answers to (add it to MLOPS_ALLOWED_HOSTS)`, 403),
  crossOrigin: (origin: string) =>
    new MlopsError('CROSS_ORIGIN', `requests that change state from origin '${origin}' are refused (add it to MLOPS_CORS_ORIGINS)`, 403),
  predictionLogBusy: (file: string) =>
    new MlopsError('PREDICTION_LOG_BUSY', `prediction log database ${file} is locked by another process; try again`, 503),
  predictionLogDown: (database: string, cause?: unknown) =>
    new MlopsError(
      'PREDICTION_LOG_DOWN',
      `prediction log database ${database} cannot be reached${cause instanceof Error && cause.message ? ` (${cause.message})` : ''}` +
        '; try again',
      503,
    ),
  notServing: (server: string, reason: string) => new MlopsError('NOT_READY', `${server} serves no model yet: ${reason}`, 503),
  badOption: (option: string, expected: string, got: string) => new MlopsError('USAGE', `${option} must be ${expected}, got '${got}'`),
  unreadable: (what: string, reason: string) => new MlopsError('USAGE', `${what}: ${reason}`),
  halfCredentials: (prefix: string) => new MlopsError('USAGE', `${prefix}_USERNAME and ${prefix}_PASSWORD must be set together`),
  insecureBind: (host: string, open: string[]) =>
    new MlopsError(
      'USAGE',
      `refusing to listen on ${host} with no auth for ${open.join(', ')}: ` +
        'set credentials (PREDICT_*, METRICS_*, MLOPS_API_* USERNAME/PASSWORD or TOKEN), or pass --allow-insecure-bind',
    ),
  runIdInUse: (runId: string) => new MlopsError('USAGE', `run id '${runId}' is held by another runner (its lease is live)`),
  notRunningHere: (runId: string) => new MlopsError('NOT_FOUND', `run '${runId}' is not running here`, 404),
  badVersion: (got: string) => new MlopsError('BAD_INPUT', `version must be a positive whole number, got '${got}'`, 400),
  // The server could not be reached or refused: a failure (exit 1), not a mistake in the command line.
  unreachable: (url: string, reason: string) =>
    new MlopsError('SERVER_UNREACHABLE', `cannot reach ${url}: ${reason} (is the server running? mlops serve)`, 503),
  serverAnswered: (url: string, status: number, what: string, body: string) =>
    new MlopsError('SERVER_REFUSED', `${url} answered ${status} to ${what}: ${body.slice(0, 200)}`, 502),
  // The VS Code extension's own (it starts the server and talks to it)
  noProject: () => new MlopsError('NO_PROJECT', 'open the project folder first (or set mlops.projectDirectory)'),
  serverMissing: (entry: string) => new MlopsError('SERVER_START', `no server to start: ${entry} is missing (run npm ci in the project)`),
  serverNoAnswer: (seconds: number) =>
    new MlopsError('SERVER_START', `the server did not answer within ${seconds} s (see the MLOps Server output)`),
  serverExited: (how: string) => new MlopsError('SERVER_START', `the server exited while starting (${how}); see the MLOps Server output`),
  serverUnreachable: (url: string) =>
    new MlopsError('SERVER_UNREACHABLE', `the MLOps server at ${url} is not reachable: MLOps: Start Server`, 503),
  badSetting: (name: string, expected: string, got: unknown) =>
    new MlopsError('BAD_SETTING', `setting ${name} must be ${expected}, got ${JSON.stringify(got)}`),
  nothingServed: (why: string | null) => new MlopsError('NOT_READY', `no model is being served: ${why ?? 'train one first'}`, 503),
  loadTest: (reason: string) => new MlopsError('LOAD_TEST', `load test failed: ${reason}`),
  // Request validation (the server's /predict and OIP routes)
  badInput: (message: string) => new MlopsError('BAD_INPUT', message, 400),
  tooManyRows: (n: number, max: number) => new MlopsError('TOO_LARGE', `too many rows: ${n}, the limit is ${max} (MLOPS_MAX_ROWS)`, 413),
  notServedHere: (model: string, version: number | undefined, served: string, servedVersion: number) =>
    new MlopsError(
      'NOT_FOUND',
      `model '${model}'${version ? ` version ${version}` : ''} is not being served (serving ${served} version ${servedVersion})`,
      404,
    ),
  badPipelinePath: (requested: string) =>
    new MlopsError('BAD_INPUT', `pipeline must be a .ts or .js module inside the project, got '${requested}'`, 400),
  // Why the server refuses to load (or swap to) a version; it keeps serving the previous one.
  severalModels: (names: string[]) =>
    new MlopsError(
      'USAGE',
      `the registry holds several models (${names.join(', ')}): ` +
        "choose one with --model, MLOPS_MODEL or the extension's mlops.model setting",
    ),
  modelUnreadable: (what: string, file: string, code: string | undefined) =>
    new MlopsError('MODEL_REFUSED', `cannot read ${file} of ${what}: ${code ?? 'unknown error'}`, 503),
  artifactCorrupt: (what: string, file: string, sha256: string, recorded: string) =>
    new MlopsError(
      'ARTIFACT_CORRUPT',
      `${what}: ${file} has sha256 ${sha256.slice(0, 12)}…, the registry recorded ${recorded.slice(0, 12)}…; not copied`,
    ),
  modelCorrupt: (what: string, file: string, sha256: string, recorded: string) =>
    new MlopsError(
      'MODEL_REFUSED',
      `${what} is corrupt: ${file} has sha256 ${sha256.slice(0, 12)}…, the registry recorded ${recorded.slice(0, 12)}…; ` +
        'still serving the previous version',
      503,
    ),
  featuresChanged: (what: string, now: string, was: string) =>
    new MlopsError('MODEL_REFUSED', `${what} takes features [${now}] but the server serves [${was}]: restart the server to switch`, 503),
  onnxLoad: (what: string, reason: string) => new MlopsError('MODEL_REFUSED', `onnxruntime cannot load ${what}: ${reason}`, 503),
  signatureMismatch: (what: string, missing: string[]) =>
    new MlopsError('MODEL_REFUSED', `${what} does not match its signature: no ${missing.join(', ')} in the ONNX graph`, 503),
  // The prediction log's writer thread (internal: a broken install or a crash, not the user's input)
  writerMissing: (entry: string) =>
    new MlopsError('INTERNAL', `prediction log: its writer thread ${entry} is missing (run npm run build)`, 500),
  writerExited: (code: number, lost: number) =>
    new MlopsError(
      'INTERNAL',
      `prediction log: the writer thread exited with code ${code}${lost ? `; ${lost} rows not written` : ''}`,
      500,
    ),
  // Importing an ONNX model trained elsewhere (mlops models register, POST /api/models/import)
  onnxFile: (file: string, reason: string) => new MlopsError('ONNX_FILE', `${file}: ${reason}`, 400),
  onnxPort: (file: string, side: 'input' | 'output', name: string, kind: string) =>
    new MlopsError(
      'ONNX_NON_TENSOR',
      `${file}: ${side} "${name}" is a ${kind}; only tensors can be served (a scikit-learn ZipMap output is rewritten, nothing else)`,
      400,
    ),
  importUnmatched: (file: string, inputs: string, columns: string[], hint: string) =>
    new MlopsError(
      'IMPORT_UNMATCHED',
      `${file}: cannot match the model's inputs ${inputs} to the CSV columns [${columns.join(', ')}]: ${hint}`,
      400,
    ),
  importTask: (file: string, reason: string, outputs: string) =>
    new MlopsError('IMPORT_TASK', `${file}: ${reason} (its outputs: ${outputs})`, 400),
  notebookFile: (step: string, file: string, reason: string) =>
    new MlopsError('NOTEBOOK_FILE', `step '${step}': notebook ${file}: ${reason}`),
  /** A cell raised: its number in the executed copy, its first line, then `ename: evalue` as Jupyter shows them. */
  notebookCell: (step: string, cell: number, line: string, error: string) =>
    new MlopsError('NOTEBOOK_CELL', `step '${step}': cell ${cell} (${line}): ${error}`),
  notebookTimeout: (step: string, cell: number, line: string, seconds: number) =>
    new MlopsError('NOTEBOOK_TIMEOUT', `step '${step}': cell ${cell} (${line}) ran longer than ${seconds} s (timeoutSec): interrupted`),
  notebookNoOutput: (step: string, notebook: string, missing: string, dir: string) =>
    new MlopsError('COMMAND_NO_OUTPUT', `step '${step}': notebook ${notebook} ran to its end but wrote no ${missing} in ${dir}`),
  /** Python, nbclient or the kernel is missing: what to install. */
  notebookSetup: (step: string, what: string, install: string) =>
    new MlopsError('NOTEBOOK_SETUP', `step '${step}': ${what}; install ${install}`),
  // Alert rules (server/alerts) and retraining (server/loop/retrain.ts)
  alertsConfig: (file: string, where: string, problem: string) =>
    new MlopsError('ALERTS_CONFIG', `${file}: ${where ? `${where}: ` : ''}${problem}`),
  retrainBusy: (runId: string | null) =>
    new MlopsError('RETRAIN', runId ? `a retraining is already running (run ${runId})` : 'a retraining is already starting', 409),
  retrainBusyElsewhere: (model: string, holder: string) =>
    new MlopsError('RETRAIN', `a retraining of ${model} is already running on another server (${holder})`, 409),
  retrainCoolingDown: (seconds: number) =>
    new MlopsError('RETRAIN', `the last retraining ended less than MLOPS_RETRAIN_COOLDOWN_SEC ago: try again in ${seconds} s`, 429),
  retrainNoPipeline: (what: string, reason: string) => new MlopsError('RETRAIN', `cannot retrain ${what}: ${reason}`, 409),
  retrainEnded: (runId: string, status: string, error: string | null) =>
    new MlopsError('RETRAIN', `retraining run ${runId} ended ${status}${error ? `: ${error}` : ''}; no challenger`),
  // The challenger (server/loop/challenger.ts, mlops models promote --from)
  noChallenger: (model: string, alias: string) =>
    new MlopsError(
      'NO_CHALLENGER',
      `model '${model}' has no ${alias} alias: set one first (mlops models promote ${model} <version> --alias ${alias})`,
      404,
    ),
  challengerIsChampion: (model: string, alias: string, to: string, version: number) =>
    new MlopsError('NO_CHALLENGER', `${model}@${alias} is already ${model}@${to} (version ${version}): nothing to promote`, 409),
  challengerLayout: (what: string, champion: string) =>
    new MlopsError(
      'MODEL_REFUSED',
      `${what} cannot be the challenger: its inputs differ from those of ${champion}, which it must share`,
      503,
    ),
  badChallengerSetting: (field: string, expected: string, got: unknown) =>
    new MlopsError('BAD_INPUT', `challenger ${field} must be ${expected}, got ${JSON.stringify(got)}`, 400),
  // Ground-truth feedback (POST /feedback, mlops feedback import): `problems` names each refused entry
  badFeedback: (problems: FeedbackProblem[]) =>
    new MlopsError('BAD_FEEDBACK', `feedback refused, nothing stored: ${describeProblems(problems)}`, 422, { problems }),
  feedbackConflict: (problems: FeedbackProblem[]) =>
    new MlopsError(
      'FEEDBACK_CONFLICT',
      `feedback refused, nothing stored: ${describeProblems(problems)} (a stored label is never overwritten)`,
      409,
      { problems },
    ),
  labelledModel: (why: string) => new MlopsError('USAGE', `--labeled: name the model with --model (${why})`),
  feedbackRefused: (file: string, refused: number, total: number) =>
    new MlopsError('BAD_FEEDBACK', `${file}: ${refused} of ${total} entries refused (listed above); the others were sent`),
  predictionLogOff: (what: string) =>
    new MlopsError('PREDICTION_LOG_OFF', `${what} needs the prediction log, which is off (LOG_PREDICTIONS=false)`, 409),
  // The extension's pipeline authoring: executed notebooks it shows, pipelines it scaffolds (MLOps: New Pipeline…)
  notebookCopy: (file: string, reason: string) => new MlopsError('NOTEBOOK_COPY', `${file}: ${reason}`, 400),
  notebookCopyReadOnly: () =>
    new MlopsError('NOTEBOOK_COPY', "an executed notebook copy is read-only: edit the pipeline's notebook and run it again", 400),
  scaffoldName: (name: string) =>
    new MlopsError('SCAFFOLD', `bad pipeline name "${name}": use lower-case letters, digits, - and _, starting with a letter`, 400),
  scaffoldExists: (dir: string) => new MlopsError('SCAFFOLD', `${dir} already exists: pick another name`, 400),
  scaffoldCsv: (file: string, reason: string) => new MlopsError('SCAFFOLD', `${file}: ${reason}`, 400),
  // mlops db copy: a log copied twice would hold every prediction twice, so copying only fills an empty one.
  predictionLogNotEmpty: (database: string, predictions: number, labels: number) =>
    new MlopsError(
      'PREDICTION_LOG_NOT_EMPTY',
      `prediction log database ${database} already holds ${predictions} predictions and ${labels} feedback labels: ` +
        'nothing was copied, since copying into it again would duplicate them (the copy only fills an empty log; there is no append)',
      409,
    ),
  // The PostgreSQL registry (common/registry/postgres/): `location` is its URL without the password.
  databaseUnreachable: (location: string, reason: string) =>
    new MlopsError('DATABASE_UNREACHABLE', `cannot reach the database ${location}: ${reason}`, 503),
  registrySchemaNewer: (location: string, version: number, expected: number) =>
    new MlopsError(
      'REGISTRY_SCHEMA',
      `the registry ${location} is at schema version ${version}, newer than this mlops understands (${expected}): ` +
        'upgrade mlops on this host, or point it at another database',
      503,
    ),
  registryNotEmpty: (location: string, table: string) =>
    new MlopsError('REGISTRY', `cannot copy into ${location}: it already holds rows (table ${table}); copy into an empty database`, 409),
  registryCopySchema: (location: string, rows: number, expected: number) =>
    new MlopsError(
      'REGISTRY_SCHEMA',
      `cannot copy rows of schema version ${rows} into ${location} (schema version ${expected}): ` +
        'migrate the source first (mlops db migrate)',
      409,
    ),
};

/** One refused feedback entry: its index in the posted list, its key and why. */
export interface FeedbackProblem {
  index: number;
  requestId: string;
  row: number;
  reason: string;
}

function describeProblems(problems: FeedbackProblem[]): string {
  const shown = problems.slice(0, 5).map((p) => `entry ${p.index} (requestId '${p.requestId}', row ${p.row}): ${p.reason}`);
  return shown.join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
}
