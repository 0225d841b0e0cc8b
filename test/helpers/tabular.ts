// Generated tabular data sets for the pipeline tests: deterministic (seeded), with a string
// feature, a boolean one and missing values, for a classification and a regression target.
import fs from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../../pipeline/ml/split';
import { ROOT } from './cli';

const COLOURS = ['red', 'green', 'blue'];
const EFFECT: Record<string, number> = { red: -4, green: 0, blue: 4 };

/**
 * 240 rows: length (number, a few missing), colour (string), coated (true/false), and either
 * grade (classification: "high" when length + colour effect > 10, else "low") or price
 * (regression: 3·length + colour effect + 5 if coated, plus a little noise).
 */
export function tabularCsv(task: 'classification' | 'regression', rows = 240): string {
  const next = mulberry32(task === 'classification' ? 7 : 11);
  const header = task === 'classification' ? 'length,colour,coated,grade' : 'length,colour,coated,price';
  const lines = [header];
  for (let i = 0; i < rows; i++) {
    const length = Math.round(next() * 200) / 10;
    const colour = COLOURS[Math.floor(next() * 3)];
    const coated = next() < 0.5;
    const shown = i % 40 === 5 ? 'NA' : String(length);
    const y =
      task === 'classification'
        ? length + EFFECT[colour] > 10
          ? 'high'
          : 'low'
        : (3 * length + EFFECT[colour] + (coated ? 5 : 0) + (next() - 0.5)).toFixed(2);
    lines.push(`${shown},${colour},${coated},${y}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * A folder inside the repository's pipeline/examples (so that a copied example's relative imports
 * resolve as they do for a user's copy), removed by the caller.
 */
export function exampleCopyDir(): string {
  return fs.mkdtempSync(path.join(ROOT, 'pipeline', 'examples', '.copy-test-'));
}
