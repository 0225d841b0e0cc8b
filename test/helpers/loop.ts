import fs from 'node:fs';
import { Writable } from 'node:stream';
import { IRIS_CSV } from './cli';

export type IrisRecord = { sepal_length: number; sepal_width: number; petal_length: number; petal_width: number };

/** The iris example's rows as /predict records with their true label, each number moved by `shift` (none: as they are). */
export function irisRows(shift: Partial<IrisRecord> = {}): { record: IrisRecord; label: string }[] {
  return fs
    .readFileSync(IRIS_CSV, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [sl, sw, pl, pw, label] = line.split(',');
      const record = {
        sepal_length: Number(sl) + (shift.sepal_length ?? 0),
        sepal_width: Number(sw) + (shift.sepal_width ?? 0),
        petal_length: Number(pl) + (shift.petal_length ?? 0),
        petal_width: Number(pw) + (shift.petal_width ?? 0),
      };
      return { record, label: label.replaceAll('"', '') };
    });
}

/** A pino destination that keeps the server's log lines (JSON) for a test to read: buildServer's `stream`. */
export function logLines(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}
