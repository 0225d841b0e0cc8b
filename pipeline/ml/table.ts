// A CSV read into typed columns: numbers, booleans and strings (categorical), with missing values
// recorded as null. The ETL step, the ONNX import and the trainers read data through it, so one
// rule decides what a column is and which task a target means. Columns are plain arrays so that a
// table (or part of it) is JSON as it is, in the dataset artifact.
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { ModelTask } from '../../common/contract';
import { errors } from '../../common/errors';

export type ColumnType = 'number' | 'boolean' | 'string';

export type Column =
  | { name: string; type: 'number'; values: (number | null)[]; missing: number }
  | { name: string; type: 'boolean'; values: (boolean | null)[]; missing: number }
  | { name: string; type: 'string'; values: (string | null)[]; missing: number };

export interface Table {
  file: string;
  /** Rows read (the header excluded). */
  rows: number;
  /** The file line of each row (1-based; the header is line 1), for messages. */
  lines: number[];
  columns: Column[];
}

export interface ReadTableOptions {
  /** Columns to keep, in this order; a missing one is an error. Default: every column of the header. */
  columns?: string[];
  /** A type per column, instead of the inferred one; a value that does not parse as it is an error. */
  types?: Record<string, ColumnType>;
}

/**
 * Cells read as a missing value (pandas' usual markers, but not "None", which is often a real
 * category). Compared after trimming.
 */
export const MISSING_MARKERS: ReadonlySet<string> = new Set(['', 'NA', 'N/A', 'n/a', 'NaN', 'nan', '-NaN', 'null', 'NULL', '#N/A', '<NA>']);

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEAN = /^(true|false)$/i;

export const COLUMN_TYPES: readonly ColumnType[] = ['number', 'boolean', 'string'];

/** A cell that reads as a number: decimal notation only (not 0x10, Infinity or an empty string). */
export function isNumberCell(cell: string): boolean {
  return NUMBER.test(cell);
}

/** The type of a column from its present cells: all numbers, else all true/false, else string. */
export function inferColumnType(cells: readonly string[]): ColumnType {
  const present = cells.filter((c) => !MISSING_MARKERS.has(c));
  if (present.length === 0) return 'string';
  if (present.every((c) => NUMBER.test(c))) return 'number';
  if (present.every((c) => BOOLEAN.test(c))) return 'boolean';
  return 'string';
}

function expectedOf(type: ColumnType): string {
  return type === 'number' ? 'a number' : type === 'boolean' ? 'true or false' : 'a string';
}

/** Cells → a typed column; a cell that does not parse as `type` is an error naming file, line and column. */
function typedColumn(file: string, name: string, cells: string[], lines: number[], type: ColumnType): Column {
  let missing = 0;
  const parseCell = (cell: string, i: number): number | boolean | string | null => {
    if (MISSING_MARKERS.has(cell)) {
      missing++;
      return null;
    }
    if (type === 'string') return cell;
    const ok = type === 'number' ? NUMBER.test(cell) : BOOLEAN.test(cell);
    if (!ok) throw errors.dataValue(file, lines[i], name, `'${cell}' is not ${expectedOf(type)} (the column's type is ${type})`);
    return type === 'number' ? Number(cell) : cell.toLowerCase() === 'true';
  };
  const values = cells.map(parseCell);
  return { name, type, values, missing } as Column;
}

/** Parses CSV text (RFC 4180, header row first); errors name the file and line. */
function parseCsv(file: string, text: string): { header: string[]; rows: string[][]; lines: number[] } {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { info: true, skip_empty_lines: true, trim: true, bom: true }) as unknown as typeof records;
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw errors.csv(file, e.lines ?? 1, e.message.replace(/^Invalid [^:]*: /, ''));
  }
  if (records.length === 0) throw errors.schema(file, 'the file is empty (expected a header row)');
  const header = records[0].record;
  const seen = new Set<string>();
  for (const h of header) {
    if (h === '') throw errors.schema(file, 'a column has no name in the header');
    if (seen.has(h)) throw errors.schema(file, `column '${h}' appears twice in the header`);
    seen.add(h);
  }
  return { header, rows: records.slice(1).map((r) => r.record), lines: records.slice(1).map((r) => r.info.lines) };
}

/** Reads a CSV file into typed columns (see ReadTableOptions). */
export function readTable(file: string, options: ReadTableOptions = {}): Table {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw errors.dataFile(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseTable(file, text, options);
}

/** As readTable, from text already read (`file` names it in messages). */
export function parseTable(file: string, text: string, options: ReadTableOptions = {}): Table {
  const { header, rows, lines } = parseCsv(file, text);
  const wanted = options.columns ?? header;
  const missing = wanted.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw errors.schema(
      file,
      `missing column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `'${c}'`).join(', ')} (found: ${header.join(', ')})`,
    );
  }
  for (const [name, type] of Object.entries(options.types ?? {})) {
    if (!COLUMN_TYPES.includes(type)) throw errors.badParamValue(`types.${name}`, COLUMN_TYPES.join(' | '), String(type));
  }
  const columns = wanted.map((name) => {
    const j = header.indexOf(name);
    const cells = rows.map((r) => r[j]);
    return typedColumn(file, name, cells, lines, options.types?.[name] ?? inferColumnType(cells));
  });
  return { file, rows: rows.length, lines, columns };
}

/** The column of a table by name; a missing one is a schema error listing the table's columns. */
export function columnOf(table: Table, name: string): Column {
  const column = table.columns.find((c) => c.name === name);
  if (!column) throw errors.schema(table.file, `missing column '${name}' (found: ${table.columns.map((c) => c.name).join(', ')})`);
  return column;
}

/** A cell as a category name: booleans and numbers by their text form; null stays null. */
export function categoryOf(value: number | boolean | string | null): string | null {
  return value === null ? null : String(value);
}

/**
 * The distinct categories of a column, sorted: numerically when every one is a number (so 2 comes
 * before 10), else by code point (the same order in every locale). Missing values are not a category.
 */
export function categoriesOf(column: Column): string[] {
  const set = new Set<string>();
  for (const v of column.values) if (v !== null) set.add(String(v));
  const all = [...set];
  return column.type === 'number' ? all.sort((a, b) => Number(a) - Number(b)) : all.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export type TaskChoice = ModelTask | 'auto';

/** The largest number of distinct whole-number targets that 'auto' still reads as classes (scikit-learn's type_of_target spirit). */
export const MAX_INTEGER_CLASSES = 20;

/**
 * The task a target column means, like scikit-learn's type_of_target: strings and booleans are
 * classes; whole numbers with at most MAX_INTEGER_CLASSES distinct values are classes; any other
 * numbers are a regression target. `choice` overrides it; what cannot be the chosen task is an
 * error naming the file and column.
 */
export function inferTask(file: string, target: Column, choice: TaskChoice = 'auto'): ModelTask {
  if (choice !== 'auto' && choice !== 'classification' && choice !== 'regression') {
    throw errors.badParamValue('task', 'auto | classification | regression', String(choice));
  }
  if (target.type !== 'number') {
    if (choice === 'regression') {
      throw errors.dataColumn(file, target.name, `holds ${target.type}s, not numbers: it cannot be a regression target`);
    }
    return 'classification';
  }
  const present = target.values.filter((v): v is number => v !== null);
  const whole = present.every((v) => Number.isInteger(v));
  if (choice === 'classification') {
    if (!whole) {
      const reason = 'holds fractional numbers: it cannot be a classification target (use task=regression)';
      throw errors.dataColumn(file, target.name, reason);
    }
    return 'classification';
  }
  if (choice === 'regression') return 'regression';
  return whole && new Set(present).size <= MAX_INTEGER_CLASSES ? 'classification' : 'regression';
}
