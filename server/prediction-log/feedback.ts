// Ground truth in the prediction log's database, on the writer thread's connection (its only
// writer): the join of labels to logged predictions, their storage, retention and the rolling window
// that live quality is computed over. Every query here runs on the writer thread, never on the
// server's event loop; each one is an index lookup per key, or a window of at most qualityWindow rows.
import type Database from 'better-sqlite3';
import type { LiveQuality } from '../../common/contract';
import { liveQuality, type LabelledPrediction } from '../monitoring/live-quality-math';
import { emptyLookup, type FeedbackBatch, type FeedbackConflict, type FeedbackKeys, type FeedbackLookup } from './protocol';

/** Indexes of the entries stored, the count of those already stored alike, and the conflicting ones. */
export interface Stored {
  accepted: Int32Array;
  duplicates: number;
  conflicts: FeedbackConflict[];
}

type MatchRow = [string, number, number, number, string | null];
/** predicted label, predicted values (JSON), actual label, actual value, predicted at, labelled at: newest label first. */
export type WindowRow = [string | null, string | null, string | null, number | null, number, number];

/** The key of a (request id, row) in the maps below. */
export const feedbackKey = (requestId: string, row: number): string => `${row}:${requestId}`;

/**
 * What storing a batch would do, given the labels already stored for its keys (by feedbackKey): the
 * entries to insert (positions in the batch), their indexes, the duplicates and the conflicts. An
 * entry whose key an earlier entry of the same batch labelled is judged against that entry. Shared by
 * both backends so that they accept and refuse alike.
 */
export function classifyFeedback(
  b: FeedbackBatch,
  existing: Map<string, string | number>,
): { insert: number[]; accepted: Int32Array; duplicates: number; conflicts: FeedbackConflict[] } {
  const insert: number[] = [];
  const accepted: number[] = [];
  let duplicates = 0;
  const conflicts: FeedbackConflict[] = [];
  /** Keys labelled by this batch so far: a conflict with one of them names that entry. */
  const labelledBy = new Map<string, number>();
  for (let i = 0; i < b.index.length; i++) {
    const requestId = b.requestIds[i];
    const row = b.rows[i];
    const key = feedbackKey(requestId, row);
    const actual = b.labels[i] ?? b.values[i];
    const value = existing.get(key);
    if (value !== undefined) {
      if (value === actual) duplicates++;
      else conflicts.push({ index: b.index[i], requestId, row, stored: value, byEntry: labelledBy.get(key) ?? null });
      continue;
    }
    existing.set(key, actual);
    insert.push(i);
    accepted.push(b.index[i]);
    labelledBy.set(key, b.index[i]);
  }
  return { insert, accepted: Int32Array.from(accepted), duplicates, conflicts };
}

/** Live quality of one version from its window rows (WindowRow, newest label first). */
export function windowQuality(model: string, version: number, windowSize: number, rows: WindowRow[]): LiveQuality {
  const window: LabelledPrediction[] = rows.map(([label, values, actualLabel, actualValue, predictedAt, labelledAt]) => ({
    predicted: label ?? firstValue(values),
    actual: actualLabel ?? actualValue!,
    delayMs: labelledAt - predictedAt,
  }));
  return liveQuality(model, version, windowSize, window);
}

/** A regression row's first predicted value (feedback carries one target), null when it was NaN. */
function firstValue(json: string | null): number | null {
  if (json === null) return null;
  const values = JSON.parse(json) as (number | null)[];
  return values[0] ?? null;
}

export class FeedbackStore {
  private readonly matches: Database.Statement;
  private readonly requestRows: Database.Statement;
  private readonly stored: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly versionsOf: Database.Statement;
  private readonly window: Database.Statement;
  private readonly allVersions: Database.Statement;
  private readonly prune: Database.Statement;
  private readonly oldest: Database.Statement;
  private readonly storeTx: (at: number, batch: FeedbackBatch) => Stored;

  constructor(
    private readonly db: Database.Database,
    private readonly windowSize: number,
  ) {
    const where = 'WHERE request_id = ? AND row_index = ?';
    // The answer sent first (shadow 0), then the oldest: a reused request id labels its first answer.
    this.matches = db.prepare(`SELECT model, version, shadow, at, label FROM predictions ${where} ORDER BY shadow, id LIMIT 1`).raw(true);
    this.requestRows = db.prepare('SELECT count(*) FROM predictions WHERE request_id = ? AND shadow = 0').pluck();
    this.stored = db.prepare(`SELECT actual_label, actual_value FROM feedback ${where}`).raw(true);
    this.insert = db.prepare(
      'INSERT INTO feedback (at, request_id, row_index, actual_label, actual_value, prediction_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.versionsOf = db.prepare(`SELECT DISTINCT model, version FROM predictions ${where}`).raw(true);
    // CROSS JOIN keeps feedback the outer loop: newest labels first, each joined through predictions_request.
    this.window = db
      .prepare(
        'SELECT p.label, p.prediction_values, f.actual_label, f.actual_value, p.at, f.at FROM feedback f ' +
          'CROSS JOIN predictions p ON p.request_id = f.request_id AND p.row_index = f.row_index ' +
          'WHERE p.model = ? AND p.version = ? ORDER BY f.id DESC LIMIT ?',
      )
      .raw(true);
    this.allVersions = db
      .prepare(
        'SELECT DISTINCT p.model, p.version FROM feedback f ' +
          'CROSS JOIN predictions p ON p.request_id = f.request_id AND p.row_index = f.row_index',
      )
      .raw(true);
    this.prune = db.prepare(
      'DELETE FROM feedback WHERE prediction_at <= ? AND NOT EXISTS ' +
        '(SELECT 1 FROM predictions p WHERE p.request_id = feedback.request_id AND p.row_index = feedback.row_index)',
    );
    this.oldest = db.prepare('SELECT min(at) FROM predictions').pluck();
    this.storeTx = db.transaction((at: number, b: FeedbackBatch) => {
      const existing = new Map<string, string | number>();
      for (let i = 0; i < b.index.length; i++) {
        const stored = this.stored.get(b.requestIds[i], b.rows[i]) as [string | null, number | null] | undefined;
        if (stored) existing.set(feedbackKey(b.requestIds[i], b.rows[i]), stored[0] ?? stored[1]!);
      }
      const result = classifyFeedback(b, existing);
      // All or nothing: a batch with a conflict stores none of its entries.
      if (result.conflicts.length > 0) throw new ConflictRollback(result.conflicts);
      for (const i of result.insert) {
        this.insert.run(at, b.requestIds[i], b.rows[i], b.labels[i], b.labels[i] === null ? b.values[i] : null, b.predictionAt[i]);
      }
      return { accepted: result.accepted, duplicates: result.duplicates, conflicts: [] };
    });
  }

  /** The prediction each key labels (the answer sent, else a shadow one), or how many rows its request has. */
  lookup(keys: FeedbackKeys): FeedbackLookup {
    const n = keys.rows.length;
    const out = emptyLookup(n);
    const modelIds = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const match = this.matches.get(keys.requestIds[i], keys.rows[i]) as MatchRow | undefined;
      if (!match) {
        out.model[i] = -1;
        out.requestRows[i] = this.requestRows.get(keys.requestIds[i]) as number;
        continue;
      }
      const [model, version, , at, label] = match;
      let id = modelIds.get(model);
      if (id === undefined) modelIds.set(model, (id = out.models.push(model) - 1));
      out.model[i] = id;
      out.version[i] = version;
      out.at[i] = at;
      out.classification[i] = label === null ? 0 : 1;
    }
    return out;
  }

  /** Stores the labels in one transaction; with any conflict, none (conflicts returned). */
  store(at: number, batch: FeedbackBatch): Stored {
    try {
      return this.storeTx(at, batch);
    } catch (err) {
      if (err instanceof ConflictRollback) return { accepted: new Int32Array(0), duplicates: 0, conflicts: err.conflicts };
      throw err;
    }
  }

  /** Quality of every version the keys' predictions belong to. */
  qualityOf(keys: FeedbackKeys): LiveQuality[] {
    const versions = new Map<string, [string, number]>();
    for (let i = 0; i < keys.rows.length; i++) {
      for (const [model, version] of this.versionsOf.all(keys.requestIds[i], keys.rows[i]) as [string, number][]) {
        versions.set(`${model}\u0000${version}`, [model, version]);
      }
    }
    return [...versions.values()].map(([model, version]) => this.quality(model, version));
  }

  /** Quality of every version that has a label. */
  qualityOfAll(): LiveQuality[] {
    return (this.allVersions.all() as [string, number][]).map(([model, version]) => this.quality(model, version));
  }

  /** Deletes the labels whose predictions retention deleted; returns how many. */
  pruneOrphans(): number {
    const oldest = this.oldest.get() as number | null;
    return this.prune.run(oldest ?? Number.MAX_SAFE_INTEGER).changes;
  }

  private quality(model: string, version: number): LiveQuality {
    return windowQuality(model, version, this.windowSize, this.window.all(model, version, this.windowSize) as WindowRow[]);
  }
}

/** Thrown inside the store transaction to roll it back; not an error of anyone's. */
export class ConflictRollback extends Error {
  constructor(readonly conflicts: FeedbackConflict[]) {
    super('feedback conflict');
  }
}
