// The rows of the metrics webview's champion-and-challenger view (DOM-free, unit-tested; main.ts draws
// them): both versions side by side, from the 'challenger' events and the monitoring snapshot (live quality).
import type { ChallengerInfo, LiveQuality, ServingInfo } from '../../common/contract';

/** What the webview knows of the champion: its version, its last latency figures, its live quality. */
export interface ChampionFigures {
  serving: ServingInfo | null;
  latencyMs: { p50: number; p95: number } | null;
  quality: LiveQuality | null;
}

const ms = (l: { p50: number; p95: number } | null) => (l ? `${l.p50.toFixed(2)} / ${l.p95.toFixed(2)} ms` : '-');
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function quality(q: LiveQuality | null): string {
  if (!q) return '-';
  const over = ` over ${q.labelled} labels`;
  if (q.classification) return `accuracy ${pct(q.classification.accuracy)}, macro F1 ${q.classification.macroF1.toFixed(3)}${over}`;
  if (q.regression) return `MAE ${q.regression.mae.toPrecision(4)}, RMSE ${q.regression.rmse.toPrecision(4)}${over}`;
  return '-';
}

/** The rows of the table: a label, then the champion's and the challenger's value. */
export function challengerRows(c: ChallengerInfo, champion: ChampionFigures): [string, string, string][] {
  const mode = c.mode === 'shadow' ? `shadow: runs beside ${pct(c.share)} of requests` : `canary: answers ${pct(c.share)} of requests`;
  const rows: [string, string, string][] = [
    [
      'version',
      champion.serving ? `${champion.serving.model} v${champion.serving.version}` : '-',
      `${c.serving.model} v${c.serving.version}`,
    ],
    ['alias', champion.serving ? String(champion.serving.selector) : '-', c.alias],
    ['mode', 'answers', mode],
    ['agreement', '', c.agreement === null ? 'no rows compared yet' : `${pct(c.agreement)} of ${c.comparedRows} rows`],
    ['latency p50 / p95', ms(champion.latencyMs), ms(c.latencyMs)],
    ['errors', '', String(c.errors)],
    ['live quality', quality(champion.quality), quality(c.quality)],
  ];
  if (c.stopped) rows.push(['canary stopped', '', `${c.stopped.at.replace('T', ' ').slice(0, 19)}: ${c.stopped.reason}`]);
  return rows;
}
