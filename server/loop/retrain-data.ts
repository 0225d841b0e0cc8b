import fs from 'node:fs';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { ModelSignature, ModelVersion } from '../../common/contract';
import { errors } from '../../common/errors';
import { exportLabelled } from '../prediction-log/export';

/** A labelled prediction as a training row: the feature columns and the target column(s), by name. */
export type TrainingRecord = Record<string, string | number | boolean | null>;

/** The columns a training CSV of a model has: its features, then its target (classification) or targets (regression). */
export function trainingColumns(signature: ModelSignature): string[] {
  const targets = signature.task === 'classification' ? [signature.target] : signature.targets;
  return [...signature.features.map((f) => f.name), ...targets];
}

/**
 * Writes the data of a retraining to `out`: append, the original CSV with the labelled rows after it
 * (under the original header: columns the labelled rows lack stay empty); replace, the labelled rows
 * alone under the model's training columns. Returns the rows written.
 */
export function writeRetrainData(
  out: string,
  mode: 'append' | 'replace',
  original: string | null,
  signature: ModelSignature,
  labelled: TrainingRecord[],
): number {
  const cell = (v: TrainingRecord[string] | undefined) => (v === null || v === undefined ? '' : String(v));
  if (mode === 'replace' || original === null) {
    if (labelled.length === 0) throw errors.retrainNoPipeline('with data=replace', 'there are no labelled predictions to train on');
    const columns = trainingColumns(signature);
    fs.writeFileSync(out, stringify([columns, ...labelled.map((r) => columns.map((c) => cell(r[c])))]));
    return labelled.length;
  }
  const text = fs.readFileSync(original, 'utf8');
  const [header] = parse(text, { to_line: 1 }) as string[][];
  const missing = trainingColumns(signature).filter((c) => !header.includes(c));
  if (missing.length > 0) throw errors.dataFile(original, `has no column ${missing.join(', ')} to append the labelled rows under`);
  const body = text.endsWith('\n') || text.length === 0 ? text : `${text}\n`;
  fs.writeFileSync(out, body + stringify(labelled.map((r) => header.map((c) => cell(r[c])))));
  return (parse(text, { from_line: 2, skip_empty_lines: true }) as string[][]).length + labelled.length;
}

/** The labelled predictions of the version's model (every version's answers, not shadow ones), from the prediction log. */
export async function readLabelled(dataDir: string, version: ModelVersion): Promise<TrainingRecord[]> {
  const [features, target] = [version.signature.features.map((f) => f.name), trainingColumns(version.signature).at(-1)!];
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  await exportLabelled(dataDir, { model: version.model, features, target }, sink);
  return parse(chunks.join(''), { columns: true, skip_empty_lines: true }) as TrainingRecord[];
}
