import { stringify } from 'csv-stringify/sync';
import { errors } from '../../common/errors';
import { randomSplit, stratifiedSplit } from '../ml/split';
import { categoriesOf, categoryOf, inferTask, isNumberCell, readTable, type Column, type ColumnType, type TaskChoice } from '../ml/table';
import type { StepContext } from '../sdk/pipeline';
import { DATASET, type DatasetFeature, type PreparedDataset, type Split } from './dataset';
import { sha256File } from './hash';

export interface EtlOptions {
  file: string;
  features: string[];
  target: string;
  /** 'auto' infers it from the target column (table.ts inferTask); default 'auto'. */
  task?: TaskChoice;
  /** Column types to use instead of the inferred ones, e.g. { zip: 'string' }. */
  types?: Record<string, ColumnType>;
  testSize: number;
  seed: number;
  /** Share of rows that may be dropped (their target is missing) before the run fails. */
  maxBadRowShare: number;
}

/**
 * train.csv and test.csv are opened in spreadsheets as well as read by other languages' steps: a
 * header or cell starting with = + - @, a tab or a carriage return gets a leading ' (OWASP CSV
 * injection); numbers are written as they are, missing values as empty cells.
 */
const CSV_OPTIONS = { escape_formulas: true } as const;

/** The rows `rows` of a column, as a new column. */
function pick(column: Column, rows: readonly number[]): Column {
  const values = rows.map((i) => column.values[i]);
  return { ...column, values, missing: values.filter((v) => v === null).length } as Column;
}

/** A feature as the train split shows it (its missing count is the caller's); one with no value there cannot be learnt from. */
function describe(file: string, column: Column): DatasetFeature {
  const present = column.values.length - column.missing;
  if (present === 0) throw errors.dataColumn(file, column.name, 'has no values in the train split');
  if (column.type !== 'number') return { name: column.name, type: column.type, categories: categoriesOf(column), missing: column.missing };
  const numbers = column.values.filter((v): v is number => v !== null);
  return {
    name: column.name,
    type: 'number',
    min: numbers.reduce((a, b) => Math.min(a, b)),
    max: numbers.reduce((a, b) => Math.max(a, b)),
    missing: column.missing,
  };
}

/** A column whose present cells are numbers but for at most this share reads as numbers with typos, not as categories. */
const TYPO_SHARE = 0.1;

interface BadRow {
  row: number;
  column: string;
  reason: string;
}

/**
 * A string column read from cells that are nearly all numbers holds typos: it becomes a number
 * column, and the rows with a non-number are reported as bad. Columns with a declared type are
 * left as they are (the table already checked them).
 */
function numbersWithTypos(column: Column, declared: boolean): { column: Column; bad: BadRow[] } | null {
  if (column.type !== 'string' || declared) return null;
  const present = column.values.length - column.missing;
  const bad: BadRow[] = [];
  const values = column.values.map((v, row) => {
    if (v === null) return null;
    if (isNumberCell(v)) return Number(v);
    bad.push({ row, column: column.name, reason: `'${v}' is not a number` });
    return null;
  });
  if (bad.length === 0 || bad.length > TYPO_SHARE * present) return null;
  return { column: { name: column.name, type: 'number', values, missing: column.missing + bad.length }, bad };
}

/**
 * Reads the CSV into typed columns, keeps missing feature values (null), drops the rows whose
 * target is missing or whose number column holds a stray text (reported), infers or checks the task, splits with a seed (stratified for
 * classes); writes dataset.json, train.csv, test.csv.
 */
export function etl(ctx: StepContext<unknown>, o: EtlOptions): PreparedDataset {
  if (o.features.includes(o.target)) throw errors.schema(o.file, `the target '${o.target}' is also listed as a feature`);
  const table = readTable(o.file, { columns: [...o.features, o.target], types: o.types });
  const bad: BadRow[] = [];
  const columns = table.columns.map((c) => {
    const fixed = numbersWithTypos(c, o.types?.[c.name] !== undefined);
    if (!fixed) return c;
    bad.push(...fixed.bad);
    return fixed.column;
  });
  const targetColumn = columns[columns.length - 1];
  const typoRows = new Set(bad.map((b) => b.row));
  targetColumn.values.forEach((v, row) => {
    if (v === null && !typoRows.has(row)) bad.push({ row, column: o.target, reason: 'missing target' });
  });
  const badRows = new Set(bad.map((b) => b.row));
  const kept = Array.from({ length: table.rows }, (_, i) => i).filter((i) => !badRows.has(i));
  const dropped = badRows.size;
  ctx.metric('rows_read', table.rows);
  ctx.metric('rows_dropped', dropped);
  bad.sort((a, b) => a.row - b.row);
  for (const b of bad.slice(0, 20)) ctx.warn(`dropped ${o.file}:${table.lines[b.row]}: column '${b.column}': ${b.reason}`);
  if (bad.length > 20) ctx.warn(`… and ${bad.length - 20} more`);
  if (dropped > 0 && dropped > o.maxBadRowShare * table.rows) {
    const first = bad[0];
    throw errors.dataValue(
      o.file,
      table.lines[first.row],
      first.column,
      `${first.reason} (${dropped} of ${table.rows} rows are bad, more than maxBadRowShare ${o.maxBadRowShare})`,
    );
  }
  if (kept.length === 0) throw errors.dataFile(o.file, 'no usable rows');
  const target = pick(targetColumn, kept);
  const task = inferTask(o.file, target, o.task ?? 'auto');
  const classLabels = task === 'classification' ? categoriesOf(target) : [];
  if (task === 'classification' && classLabels.length < 2) {
    throw errors.dataColumn(o.file, o.target, `has one class ('${classLabels[0]}'): a classifier needs at least two`);
  }
  const classIndex = new Map(classLabels.map((l, k) => [l, k]));
  const y = target.values.map((v) => (task === 'classification' ? classIndex.get(String(v))! : (v as number)));
  const { train, test } = task === 'classification' ? stratifiedSplit(y, o.testSize, o.seed) : randomSplit(y.length, o.testSize, o.seed);

  const featureColumns = columns.slice(0, o.features.length).map((c) => pick(c, kept));
  const split = (rows: number[]): Split => ({
    rows: rows.length,
    columns: featureColumns.map((c) => pick(c, rows)),
    y: rows.map((i) => y[i]),
    lines: rows.map((i) => table.lines[kept[i]]),
  });
  const trainSplit = split(train);
  const dataset: PreparedDataset = {
    format: 2,
    source: { path: o.file, sha256: sha256File(o.file) },
    task,
    features: trainSplit.columns.map((c, j) => ({ ...describe(o.file, c), missing: featureColumns[j].missing })),
    target: o.target,
    classLabels,
    rowsRead: table.rows,
    rowsDropped: dropped,
    train: trainSplit,
    test: split(test),
  };
  ctx.artifacts.writeJson(DATASET, dataset);
  for (const part of ['train', 'test'] as const) ctx.artifacts.writeText(`${part}.csv`, splitCsv(dataset, dataset[part]));
  ctx.metric('train_rows', train.length);
  ctx.metric('test_rows', test.length);
  const missing = featureColumns.filter((c) => c.missing > 0).map((c) => `${c.name} ${c.missing}`);
  ctx.log(
    `${table.rows} rows read, ${dropped} dropped, ${train.length} train / ${test.length} test; ${task} of '${o.target}'` +
      (task === 'classification' ? `, classes: ${classLabels.join(', ')}` : '') +
      `; features: ${dataset.features.map((f) => `${f.name} (${f.type})`).join(', ')}` +
      (missing.length > 0 ? `; missing values (kept): ${missing.join(', ')}` : ''),
  );
  return dataset;
}

/**
 * A split as CSV: the features, then the target (class name or value); missing cells empty, and
 * booleans as true/false (csv-stringify would write 1 and an empty cell, which reads back as missing).
 */
function splitCsv(data: PreparedDataset, part: Split): string {
  const records = Array.from({ length: part.rows }, (_, i) => [
    ...part.columns.map((c) => (c.type === 'boolean' ? categoryOf(c.values[i]) : c.values[i]) ?? ''),
    data.task === 'classification' ? data.classLabels[part.y[i]] : part.y[i],
  ]);
  return stringify([[...data.features.map((f) => f.name), data.target], ...records], CSV_OPTIONS);
}
