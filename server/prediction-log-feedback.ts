// Ground truth in the prediction log's database, on the writer thread's connection (its only
// writer): the join of labels to logged predictions, their storage, retention and the rolling window
// that live quality is computed over. Every query here runs on the writer thread, never on the
// server's event loop; each one is an index lookup per key, or a window of at most qualityWindow rows.
import type Database from 'better-sqlite3';
import type { LiveQuality } from '../common/contract';
import { liveQuality, type LabelledPrediction } from './live-quality-math';
import type { FeedbackConflict, FeedbackKey, FeedbackLookup, FeedbackToStore } from './prediction-log-protocol';

/** Indexes of the entries stored, the count of those already stored alike, and the conflicting ones. */
export interface Stored {
  accepted: number[];
  duplicates: number;
  conflicts: FeedbackConflict[];
}

type MatchRow = [string, number, number, number, string | null, string | null];
type WindowRow = [string | null, string | null, string | null, number | null, number, number];

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
  private readonly storeTx: (at: number, entries: FeedbackToStore[]) => Stored;

  constructor(
    private readonly db: Database.Database,
    private readonly windowSize: number,
  ) {
    const where = 'WHERE request_id = ? AND row_index = ?';
    this.matches = db
      .prepare(`SELECT model, version, shadow, at, label, prediction_values FROM predictions ${where} ORDER BY id`)
      .raw(true);
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
    this.storeTx = db.transaction((at: number, entries: FeedbackToStore[]) => {
      const accepted: number[] = [];
      let duplicates = 0;
      const conflicts: FeedbackConflict[] = [];
      for (const e of entries) {
        const existing = this.stored.get(e.requestId, e.row) as [string | null, number | null] | undefined;
        if (existing) {
          const value = existing[0] ?? existing[1]!;
          if (value === e.actual) duplicates++;
          else conflicts.push({ index: e.index, requestId: e.requestId, row: e.row, stored: value });
          continue;
        }
        const label = typeof e.actual === 'string' ? e.actual : null;
        const value = typeof e.actual === 'number' ? e.actual : null;
        this.insert.run(at, e.requestId, e.row, label, value, e.predictionAt);
        accepted.push(e.index);
      }
      // All or nothing: a batch with a conflict stores none of its entries.
      if (conflicts.length > 0) throw new ConflictRollback(conflicts);
      return { accepted, duplicates, conflicts };
    });
  }

  /** The predictions each key labels (shadow ones included), oldest first. */
  lookup(keys: FeedbackKey[]): FeedbackLookup[] {
    return keys.map(({ requestId, row }) => {
      const matches = (this.matches.all(requestId, row) as MatchRow[]).map(([model, version, shadow, at, label, values]) => ({
        model,
        version,
        shadow: shadow === 1,
        at,
        predicted: label ?? firstValue(values),
      }));
      return { matches, requestRows: matches.length > 0 ? 0 : (this.requestRows.get(requestId) as number) };
    });
  }

  /** Stores the labels in one transaction; with any conflict, none (conflicts returned). */
  store(at: number, entries: FeedbackToStore[]): Stored {
    try {
      return this.storeTx(at, entries);
    } catch (err) {
      if (err instanceof ConflictRollback) return { accepted: [], duplicates: 0, conflicts: err.conflicts };
      throw err;
    }
  }

  /** Quality of every version the keys' predictions belong to. */
  qualityOf(keys: FeedbackKey[]): LiveQuality[] {
    const versions = new Map<string, [string, number]>();
    for (const k of keys) {
      for (const [model, version] of this.versionsOf.all(k.requestId, k.row) as [string, number][]) {
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
    const rows = this.window.all(model, version, this.windowSize) as WindowRow[];
    const window: LabelledPrediction[] = rows.map(([label, values, actualLabel, actualValue, predictedAt, labelledAt]) => ({
      predicted: label ?? firstValue(values),
      actual: actualLabel ?? actualValue!,
      delayMs: labelledAt - predictedAt,
    }));
    return liveQuality(model, version, this.windowSize, window);
  }
}

/** Thrown inside the store transaction to roll it back; not an error of anyone's. */
class ConflictRollback extends Error {
  constructor(readonly conflicts: FeedbackConflict[]) {
    super('feedback conflict');
  }
}
