import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { errors } from '../../common/errors';

export interface BadRow {
  line: number;
  column: string;
  reason: string;
}

export interface LabelledRows {
  X: number[][];
  labels: string[];
  /** Line numbers (1-based, header is line 1) of the kept rows. */
  lines: number[];
  rowsRead: number;
  bad: BadRow[];
}

/**
 * Reads a CSV of numeric feature columns and one label column. Malformed CSV and missing
 * columns are errors naming file and line; rows with a bad value are collected, not kept.
 */
export function readLabelledCsv(file: string, features: string[], target: string): LabelledRows {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw errors.dataFile(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { info: true, skip_empty_lines: true, trim: true, bom: true }) as unknown as typeof records;
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw errors.csv(file, e.lines ?? 1, e.message.replace(/^Invalid [^:]*: /, ''));
  }
  if (records.length === 0) throw errors.schema(file, 'the file is empty (expected a header row)');
  const header = records[0].record;
  const missing = [...features, target].filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw errors.schema(
      file,
      `missing column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `'${c}'`).join(', ')} (found: ${header.join(', ')})`,
    );
  }
  const featureIdx = features.map((f) => header.indexOf(f));
  const targetIdx = header.indexOf(target);
  const out: LabelledRows = { X: [], labels: [], lines: [], rowsRead: records.length - 1, bad: [] };
  for (const { record, info } of records.slice(1)) {
    const row: number[] = [];
    let bad: BadRow | null = null;
    for (const [k, idx] of featureIdx.entries()) {
      const raw = record[idx];
      const value = raw === '' ? NaN : Number(raw);
      if (!Number.isFinite(value)) {
        bad = { line: info.lines, column: features[k], reason: raw === '' ? 'empty value' : `'${raw}' is not a finite number` };
        break;
      }
      row.push(value);
    }
    const label = record[targetIdx];
    if (!bad && !label) bad = { line: info.lines, column: target, reason: 'empty label' };
    if (bad) {
      out.bad.push(bad);
      continue;
    }
    out.X.push(row);
    out.labels.push(label);
    out.lines.push(info.lines);
  }
  return out;
}
