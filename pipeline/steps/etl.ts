import { stringify } from 'csv-stringify/sync';
import { errors } from '../../common/errors';
import { stratifiedSplit } from '../ml/split';
import type { StepContext } from '../sdk/pipeline';
import { DATASET, type PreparedDataset } from './dataset';
import { sha256File } from './hash';
import { readLabelledCsv } from './read-csv';

export interface EtlOptions {
  file: string;
  features: string[];
  target: string;
  testSize: number;
  seed: number;
  /** Share of rows with bad values that may be dropped before the run fails. */
  maxBadRowShare: number;
}

/**
 * train.csv and test.csv are opened in spreadsheets as well as read by other languages' steps: a
 * header or label starting with = + - @, a tab or a carriage return gets a leading ' (OWASP CSV
 * injection); the feature values are numbers and are written as they are.
 */
const CSV_OPTIONS = { escape_formulas: true } as const;

/** Parse, validate, drop bad rows (reported), split stratified with a seed; writes dataset.json, train.csv, test.csv. */
export function etl(ctx: StepContext<unknown>, o: EtlOptions): PreparedDataset {
  const rows = readLabelledCsv(o.file, o.features, o.target);
  for (const b of rows.bad.slice(0, 20)) ctx.warn(`dropped ${o.file}:${b.line}: column '${b.column}': ${b.reason}`);
  if (rows.bad.length > 20) ctx.warn(`… and ${rows.bad.length - 20} more bad rows`);
  ctx.metric('rows_read', rows.rowsRead);
  ctx.metric('rows_dropped', rows.bad.length);
  if (rows.bad.length > 0 && rows.bad.length > o.maxBadRowShare * rows.rowsRead) {
    const first = rows.bad[0];
    throw errors.dataValue(
      o.file,
      first.line,
      first.column,
      `${first.reason} (${rows.bad.length} of ${rows.rowsRead} rows are bad, more than maxBadRowShare ${o.maxBadRowShare})`,
    );
  }
  if (rows.X.length === 0) throw errors.dataFile(o.file, 'no usable rows');

  const classLabels = [...new Set(rows.labels)].sort();
  if (classLabels.length < 2) throw errors.dataFile(o.file, `column '${o.target}' has fewer than two classes`);
  const y = rows.labels.map((l) => classLabels.indexOf(l));
  const split = stratifiedSplit(y, o.testSize, o.seed);
  const pick = (idx: number[]) => ({ X: idx.map((i) => rows.X[i]), y: idx.map((i) => y[i]) });
  const dataset: PreparedDataset = {
    source: { path: o.file, sha256: sha256File(o.file) },
    features: o.features,
    target: o.target,
    classLabels,
    ranges: o.features.map((_, j) => ({
      min: Math.min(...rows.X.map((r) => r[j])),
      max: Math.max(...rows.X.map((r) => r[j])),
    })),
    rowsRead: rows.rowsRead,
    rowsDropped: rows.bad.length,
    train: pick(split.train),
    test: pick(split.test),
  };
  ctx.artifacts.writeJson(DATASET, dataset);
  for (const part of ['train', 'test'] as const) {
    const records = dataset[part].X.map((r, i) => [...r, classLabels[dataset[part].y[i]]]);
    ctx.artifacts.writeText(`${part}.csv`, stringify([[...o.features, o.target], ...records], CSV_OPTIONS));
  }
  ctx.metric('train_rows', split.train.length);
  ctx.metric('test_rows', split.test.length);
  ctx.log(
    `${rows.rowsRead} rows read, ${rows.bad.length} dropped, ${split.train.length} train / ${split.test.length} test, ` +
      `classes: ${classLabels.join(', ')}`,
  );
  return dataset;
}
