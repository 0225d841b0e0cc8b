import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { errors } from '../../common/errors';

export interface CsvColumns {
  columns: string[];
  /** Columns whose sampled values are all numbers (or empty): what the Python and notebook templates train on. */
  numeric: string[];
}

/** Rows read to tell numeric columns: a scaffold needs a guess, the pipeline's ETL reads the whole file. */
const SAMPLE_ROWS = 200;

/** The header of a CSV, and which columns look numeric in its first rows. */
export function readCsvColumns(file: string): CsvColumns {
  let text: string;
  try {
    const fd = fs.openSync(file, 'r');
    const buffer = Buffer.alloc(256 * 1024);
    const n = fs.readSync(fd, buffer, 0, buffer.length, 0);
    fs.closeSync(fd);
    text = buffer.subarray(0, n).toString('utf8');
  } catch (err) {
    throw errors.scaffoldCsv(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  // A read cut mid-row would be a ragged last row: keep whole lines only, unless the file fit.
  const lines = text.split(/\r?\n/);
  if (text.length === 256 * 1024) lines.pop();
  let rows: string[][];
  try {
    rows = parse(lines.slice(0, SAMPLE_ROWS + 1).join('\n'), { skip_empty_lines: true, bom: true, relax_column_count: true });
  } catch (err) {
    throw errors.scaffoldCsv(file, `not a CSV: ${(err as Error).message}`);
  }
  const [header, ...body] = rows;
  if (!header || header.length < 2) throw errors.scaffoldCsv(file, 'needs a header line with at least two columns (features and a target)');
  const blank = header.findIndex((c) => c.trim() === '');
  if (blank >= 0) throw errors.scaffoldCsv(file, `column ${blank + 1} of the header has no name`);
  if (body.length === 0) throw errors.scaffoldCsv(file, 'has a header but no rows');
  const numeric = header.filter((_, i) => body.every((row) => (row[i] ?? '').trim() === '' || Number.isFinite(Number(row[i]))));
  return { columns: header, numeric };
}
