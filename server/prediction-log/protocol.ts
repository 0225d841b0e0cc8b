// What the prediction log's main thread (index.ts), its writer thread
// (worker.ts) and its reader (export.ts) share: the schema, the
// messages between the threads and the name of a busy database. Nothing more, so that no side
// bundles another's code.
import type { LiveQuality } from '../../common/contract';
import { errors } from '../../common/errors';
import { translateSqliteError } from '../../common/sqlite';

export const PREDICTIONS_DB_FILE = 'predictions.sqlite';

// Shared with the registry (common/postgres.ts); re-exported for the log's modules. That module loads no pg.
export { isPostgresUrl, redactUrl } from '../../common/postgres';

/** SQLITE_BUSY on this file names the prediction log, not the registry. */
export const predictionLogError = (err: unknown, file: string): unknown => translateSqliteError(err, file, errors.predictionLogBusy);

// Each entry moves the schema one version up; PRAGMA user_version records how far a file is.
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE predictions (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    row_index INTEGER NOT NULL,
    inputs TEXT NOT NULL,
    label TEXT NOT NULL,
    probabilities TEXT,
    latency_ms REAL NOT NULL
  );
  CREATE INDEX predictions_at ON predictions(at);
  -- Every input field name ever stored, in order of first appearance: the CSV export's columns.
  CREATE TABLE input_fields (
    name TEXT PRIMARY KEY
  );
  `,
  // Typed signatures: regression rows have no label but predicted values (a JSON list, one per target).
  `
  CREATE TABLE predictions_next (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    row_index INTEGER NOT NULL,
    inputs TEXT NOT NULL,
    label TEXT,
    probabilities TEXT,
    latency_ms REAL NOT NULL,
    prediction_values TEXT
  );
  INSERT INTO predictions_next (id, at, request_id, model, version, row_index, inputs, label, probabilities, latency_ms)
    SELECT id, at, request_id, model, version, row_index, inputs, label, probabilities, latency_ms FROM predictions;
  DROP TABLE predictions;
  ALTER TABLE predictions_next RENAME TO predictions;
  CREATE INDEX predictions_at ON predictions(at);
  `,
  // Ground truth: one label per (request id, row), which labels every prediction logged for that row
  // (the answer sent and a challenger's shadow one). prediction_at (the answer's time) lets retention
  // drop labels with their predictions without scanning the whole table.
  `
  ALTER TABLE predictions ADD COLUMN shadow INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX predictions_request ON predictions(request_id, row_index);
  CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    row_index INTEGER NOT NULL,
    actual_label TEXT,
    actual_value REAL,
    prediction_at INTEGER NOT NULL,
    UNIQUE (request_id, row_index)
  );
  CREATE INDEX feedback_prediction_at ON feedback(prediction_at);
  `,
];

/**
 * A hand-over's `meta` column holds META float64 per request, at these offsets. The request's
 * numbers follow one another in `values`: its n × features inputs, then (when nClasses ≥ 0) its
 * n × nClasses probabilities, then (when nTargets ≥ 0) its n × nTargets regression values.
 */
export const META = 10;
export const M_AT = 0;
export const M_VERSION = 1;
export const M_LATENCY = 2;
/** Rows of the request. */
export const M_ROWS = 3;
/** Index of the request's feature-name list in the worker's table (WriteMessage.featureSets appends to it). */
export const M_FEATURES = 4;
/** Classes per row, or -1 when the request has no probabilities. */
export const M_CLASSES = 5;
/** F_ROWS_F32 | F_PROBS_F32: the values came as float32 (written as the shortest float32 decimal). */
export const M_FLAGS = 6;
/** Index of the model name in the worker's table (WriteMessage.models appends to it). */
export const M_MODEL = 7;
/** Regression values per row (the row has no label), or -1 for a classification. */
export const M_TARGETS = 8;
/** 1 for a challenger's shadow prediction (not the answer sent), else 0. */
export const M_SHADOW = 9;
export const F_ROWS_F32 = 1;
export const F_PROBS_F32 = 2;

/** A request's feature names and how each is written: one LogKind character per feature (rows.ts). */
export interface FeatureSet {
  names: string[];
  kinds: string;
}

export interface WorkerConfig {
  /** The SQLite file; also what messages name when databaseUrl is null. */
  file: string;
  /** postgres://… (MLOPS_DATABASE_URL): the log goes to PostgreSQL instead of `file`. */
  databaseUrl: string | null;
  /** This server in PostgreSQL's `replica` column (MLOPS_REPLICA_ID, else hostname:pid). */
  replica: string;
  redact: string[];
  maxRows: number | undefined;
  maxAgeDays: number | undefined;
  /** Labelled predictions per version that live quality is computed over (MLOPS_QUALITY_WINDOW). */
  qualityWindow: number;
  /** Int32[1] set to 1 (committed and closed) or 2 (failed) once the worker has handled 'close'; Atomics.notify'd. */
  done: SharedArrayBuffer;
}

/** One tick's rows, columnar; the typed arrays' buffers are transferred (and come back in 'committed'). */
export interface WriteMessage {
  type: 'write';
  seq: number;
  requests: number;
  rows: number;
  /** requests × META, see M_*. */
  meta: Float64Array;
  values: Float64Array;
  /** Per row: index in `labels` (-1: a regression row, no label). String inputs are indexes in `labels` too. */
  labelIndex: Int32Array;
  /** This message's distinct labels. */
  labels: string[];
  /** Per request. */
  requestIds: string[];
  /** Feature lists first used since the previous message (appended to the worker's table). */
  featureSets: FeatureSet[];
  /** Model names first used since the previous message (appended to the worker's table). */
  models: string[];
  /** Sent by the timer when retention is due (at most once a second): applied after the commit. */
  retain: boolean;
}

export type ToWorker =
  | WriteMessage
  /** Try again to commit what an earlier attempt could not (no new rows). */
  | { type: 'retry'; seq: number; retain: boolean }
  /** The timer's retention when it had no rows to hand over. */
  | { type: 'retention' }
  /** Commit everything (waiting longer for the lock), close the database, set `done`, answer 'closed'. */
  | { type: 'close' }
  /** Commit what is pending, then find the predictions each key labels: answered 'lookedUp'. */
  | { type: 'lookup'; id: number; keys: FeedbackKeys }
  /** Store labels in one transaction (all or none), answered 'stored' with the new quality of the versions they label. */
  | { type: 'feedback'; id: number; at: number; batch: FeedbackBatch }
  /** Compute every version's quality again (at start): answered 'quality' with replace. */
  | { type: 'quality' };

/**
 * A feedback batch's keys, columnar: a batch may hold 10,000 entries, and posting an object per entry
 * costs the main thread a structured clone of each; arrays of strings and typed arrays are cheap.
 */
export interface FeedbackKeys {
  requestIds: string[];
  rows: Int32Array;
}

/** What each key labels, columnar (index i answers key i): the prediction the caller got, not a shadow one. */
export interface FeedbackLookup {
  /** Index in `models` of the answering prediction's model; -1 when no prediction has the key. */
  model: Int32Array;
  version: Int32Array;
  /** The prediction's time, epoch ms. */
  at: Float64Array;
  /** 1 when it predicted a class label, 0 a regression value. */
  classification: Uint8Array;
  /** When no prediction has the key: how many rows the request id has (0: the id is unknown). */
  requestRows: Int32Array;
  models: string[];
}

/** A lookup answer for n keys, zero-filled, that a store fills in (SQLite and PostgreSQL alike). */
export function emptyLookup(n: number): FeedbackLookup {
  return {
    model: new Int32Array(n),
    version: new Int32Array(n),
    at: new Float64Array(n),
    classification: new Uint8Array(n),
    requestRows: new Int32Array(n),
    models: [],
  };
}

/** Labels to store, columnar (index i of each array is one entry). */
export interface FeedbackBatch extends FeedbackKeys {
  /** Each entry's index in the posted list (named in a conflict). */
  index: Int32Array;
  /** Classification: the label; null for a regression entry, whose value is in `values`. */
  labels: (string | null)[];
  values: Float64Array;
  /** The answer's prediction time. */
  predictionAt: Float64Array;
}

export interface WireError {
  name: string;
  message: string;
  code?: string;
  status?: number;
}

export interface ReturnedBuffers {
  meta: ArrayBuffer;
  values: ArrayBuffer;
  labelIndex: ArrayBuffer;
}

export type FromWorker =
  /** Everything up to `seq` is committed: `rows` rows in `transactions` transactions since the last answer. */
  | { type: 'committed'; seq: number; rows: number; transactions: number; buffers: ReturnedBuffers[] }
  /**
   * The attempt to commit everything up to `seq` failed (rolled back). SQLite errors keep the rows
   * for a retry (`dropped` 0); any other error (a bug) drops them, so that one bad message cannot
   * stall the log for good.
   */
  | { type: 'failed'; seq: number; dropped: number; error: WireError }
  /** The database became unreachable (up false) or reachable again (up true) at `since`, epoch ms. */
  | { type: 'database'; up: boolean; since: number }
  /** The timer's retention failed (reported through onError). */
  | { type: 'warning'; error: WireError }
  | { type: 'closed'; error: WireError | null }
  | { type: 'lookedUp'; id: number; lookup: FeedbackLookup }
  /** Stored (conflicts set: nothing stored, those entries already hold another label). */
  | { type: 'stored'; id: number; accepted: Int32Array; duplicates: number; conflicts: FeedbackConflict[]; qualities: LiveQuality[] }
  /** A lookup or a store failed (rolled back). */
  | { type: 'requestFailed'; id: number; error: WireError }
  /** Live quality of versions, recomputed: `replace` (at start, after retention) means these are all there are. */
  | { type: 'quality'; qualities: LiveQuality[]; replace: boolean };

export interface FeedbackConflict {
  index: number;
  requestId: string;
  row: number;
  stored: string | number;
  /** The entry of the same batch that gave the other label (never stored: the batch is rolled back); null: stored before. */
  byEntry: number | null;
}
