// The metrics webview's "Live quality" section as text: what the extension posts (LiveQuality, from
// /api/monitoring) turned into a caption and rows. No DOM here, so that the tests run it as it is;
// the challenger's view shows a second version's figures with the same rows.
import type { LiveQuality } from '../../common/contract';

/** A delay for people: 850 ms, 12 s, 3.5 min, 2.1 h, 1.5 d. */
export function formatDelay(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  const [size, unit] = units.find(([size]) => ms >= size)!;
  const value = ms / size;
  return `${value < 10 ? Number(value.toFixed(1)) : Math.round(value)} ${unit}`;
}

/** One line over the table: how many labels, and how late they came. */
export function qualityCaption(q: LiveQuality | null): string {
  if (!q) return 'No ground truth yet: send labels with POST /feedback or mlops feedback import (README: Feedback and live quality).';
  const window = q.labelled < q.windowSize ? `${q.labelled} labelled predictions` : `the last ${q.windowSize} labelled predictions`;
  const delay = q.labelDelayMs ? ` · label delay median ${formatDelay(q.labelDelayMs.p50)}, max ${formatDelay(q.labelDelayMs.max)}` : '';
  return `${q.model} version ${q.version}: ${window}${delay}`;
}

/** The figures as name/value rows: accuracy, macro F1 and recall per class, or MAE and RMSE. */
export function qualityRows(q: LiveQuality): [string, string][] {
  const f = (v: number) => v.toFixed(3);
  if (q.classification) {
    const c = q.classification;
    return [
      ['accuracy', f(c.accuracy)],
      ['macro F1', f(c.macroF1)],
      ...Object.entries(c.recall).map(([label, r]): [string, string] => [`recall ${label}`, f(r)]),
    ];
  }
  if (q.regression) {
    const g = (v: number) => String(Number(v.toPrecision(4)));
    return [
      ['MAE', g(q.regression.mae)],
      ['RMSE', g(q.regression.rmse)],
    ];
  }
  return [];
}
