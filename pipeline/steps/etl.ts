import { stringify } from 'csv-stringify/sync';
import { errors } from '../../common/errors';
import { randomSplit, stratifiedSplit } from '../ml/split';
import { categoriesOf, columnOf, inferTask, readTable, type Column, type ColumnType, type TaskChoice } from '../ml/table';
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

/** A feature as the train split shows it; one with no value there cannot be learnt from. */
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

/** A string feature whose cells are mostly numbers probably holds a typo: the warning names the first non-number. */
function suspiciousStrings(table: { lines: number[] }, column: Column): string | null {
  if (column.type !== 'string') return null;
  const cells = column.values.filter((v): v is string => v !== null);
  const numeric = cells.filter((v) => Number.isFinite(Number(v)));
  if (numeric.length < cells.length / 2) return null;
  const first = column.values.findIndex((v) => v !== null && !Number.isFinite(Number(v)));
  return (
    `column '${column.name}' is read as categories because of '${column.values[first]}' (line ${table.lines[first]}); ` +
    `give it types: { ${column.name}: 'number' } to make that an error instead`
  );
}

/**
 * Reads the CSV into typed columns, keeps missing feature values (null), drops the rows whose
 * target is missing (reported), infers or checks the task, splits with a seed (stratified for
 * classes); writes dataset.json, train.csv, test.csv.
 */
export function etl(ctx: StepContext<unknown>, o: EtlOptions): PreparedDataset {
  if (o.features.includes(o.target)) throw errors.schema(o.file, `the target '${o.target}' is also listed as a feature`);
  const table = readTable(o.file, { columns: [...o.features, o.target], types: o.types });
  const targetColumn = columnOf(table, o.target);
  const kept = targetColumn.values.flatMap((v, i) => (v === null ? [] : [i]));
  const dropped = table.rows - kept.length;
  ctx.metric('rows_read', table.rows);
  ctx.metric('rows_dropped', dropped);
  if (dropped > 0) {
    const first = targetColumn.values.indexOf(null);
    ctx.warn(`dropped ${dropped} rows whose target '${o.target}' is missing (first: ${o.file}:${table.lines[first]})`);
    if (dropped > o.maxBadRowShare * table.rows) {
      throw errors.dataValue(
        o.file,
        table.lines[first],
        o.target,
        `missing target (${dropped} of ${table.rows} rows, more than maxBadRowShare ${o.maxBadRowShare})`,
      );
    }
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

  const featureColumns = o.features.map((name) => pick(columnOf(table, name), kept));
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
    features: trainSplit.columns.map((c) => describe(o.file, c)),
    target: o.target,
    classLabels,
    rowsRead: table.rows,
    rowsDropped: dropped,
    train: trainSplit,
    test: split(test),
  };
  for (const c of featureColumns) {
    const warning = suspiciousStrings({ lines: kept.map((i) => table.lines[i]) }, c);
    if (warning) ctx.warn(warning);
  }
  ctx.artifacts.writeJson(DATASET, dataset);
  for (const part of ['train', 'test'] as const) ctx.artifacts.writeText(`${part}.csv`, splitCsv(dataset, dataset[part]));
  ctx.metric('train_rows', train.length);
  ctx.metric('test_rows', test.length);
  const missing = dataset.features.filter((f) => f.missing > 0).map((f) => `${f.name} ${f.missing}`);
  ctx.log(
    `${table.rows} rows read, ${dropped} dropped, ${train.length} train / ${test.length} test; ${task} of '${o.target}'` +
      (task === 'classification' ? `, classes: ${classLabels.join(', ')}` : '') +
      `; features: ${dataset.features.map((f) => `${f.name} (${f.type})`).join(', ')}` +
      (missing.length > 0 ? `; missing values in train: ${missing.join(', ')}` : ''),
  );
  return dataset;
}

/** A split as CSV: the features, then the target (class name or value); missing cells empty. */
function splitCsv(data: PreparedDataset, part: Split): string {
  const records = Array.from({ length: part.rows }, (_, i) => [
    ...part.columns.map((c) => c.values[i] ?? ''),
    data.task === 'classification' ? data.classLabels[part.y[i]] : part.y[i],
  ]);
  return stringify([[...data.features.map((f) => f.name), data.target], ...records], CSV_OPTIONS);
}
