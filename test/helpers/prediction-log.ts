import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import type { PredictionLogEntry } from '../../common/contract';
import { PREDICTIONS_DB_FILE, type PredictionBatch } from '../../server/prediction-log';

/** The time of the prediction-log tests' first request (epoch ms). */
export const T0 = Date.UTC(2025, 0, 1);

/** A classification request of n rows over features a, b, c whose values and labels encode (request i, row r). */
export function request(i: number, n = 2, extra: Partial<PredictionBatch> = {}): PredictionBatch {
  const rows: number[] = [];
  for (let r = 0; r < n; r++) rows.push(i + r / 10, -i, r + 0.5);
  return {
    at: T0 + i * 1000,
    requestId: `req-${i}`,
    model: 'iris',
    version: 3,
    features: ['a', 'b', 'c'],
    rows,
    labels: Array.from({ length: n }, (_, r) => `label-${i}-${r}`),
    probabilities: Array.from({ length: n * 2 }, (_, k) => (k % 2 ? 0.75 : 0.25)),
    nClasses: 2,
    latencyMs: 1.5 + i,
    ...extra,
  };
}

type RawRow = [number, string, string, number, string, string | null, string | null, number, string | null];

/** The committed prediction log of a data dir, oldest first (by time, then insertion), read with SQL of the tests' own. */
export function readLog(dataDir: string, opts: { since?: number; limit?: number } = {}): PredictionLogEntry[] {
  const db = new Database(path.join(dataDir, PREDICTIONS_DB_FILE), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        'SELECT at, request_id, model, version, inputs, label, probabilities, latency_ms, prediction_values FROM predictions ' +
          'WHERE at >= ? ORDER BY at, id LIMIT ?',
      )
      .raw(true)
      .all(opts.since ?? Number.MIN_SAFE_INTEGER, opts.limit ?? -1) as RawRow[];
    return rows.map((r) => ({
      at: r[0],
      requestId: r[1],
      model: r[2],
      version: r[3],
      inputs: JSON.parse(r[4]) as PredictionLogEntry['inputs'],
      label: r[5],
      probabilities: r[6] === null ? null : (JSON.parse(r[6]) as number[]),
      values: r[8] === null ? null : (JSON.parse(r[8]) as number[]),
      latencyMs: r[7],
    }));
  } finally {
    db.close();
  }
}

/** A stream that keeps what is written to it (an export's output), and its text. */
export function collect(): { out: Writable; text: () => string } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { out, text: () => chunks.join('') };
}
