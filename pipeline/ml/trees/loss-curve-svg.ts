// Hand-written SVG line chart of a boosting run's loss per iteration (loss_curve.svg in the run folder).
import type { LossCurve } from './model';

const WIDTH = 560;
const HEIGHT = 320;
const PAD = { left: 64, right: 16, top: 36, bottom: 44 };

function label(v: number): string {
  return Math.abs(v) >= 100 || v === 0 ? v.toFixed(0) : v.toPrecision(3);
}

/** The curve as a standalone SVG; a curve with no values draws a note instead of a line. */
export function lossCurveSvg(curve: LossCurve, title: string): string {
  const values = curve.values.filter(Number.isFinite);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14">${title.replace(/[<&]/g, '')}</text>`,
  ];
  if (values.length === 0) {
    parts.push(`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no loss recorded</text>`, '</svg>');
    return parts.join('\n');
  }
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || Math.abs(hi) || 1;
  const x = (i: number) => PAD.left + (values.length === 1 ? plotW / 2 : (i / (values.length - 1)) * plotW);
  const y = (v: number) => PAD.top + (1 - (v - lo) / span) * plotH;
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const name = `${curve.loss === 'log_loss' ? 'log-loss' : 'squared error'} (${curve.on})`;
  parts.push(
    `<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${PAD.left + plotW}" y2="${PAD.top + plotH}" stroke="#888"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + plotH}" stroke="#888"/>`,
    `<text x="${PAD.left - 6}" y="${PAD.top + 4}" text-anchor="end">${label(hi)}</text>`,
    `<text x="${PAD.left - 6}" y="${PAD.top + plotH}" text-anchor="end">${label(lo)}</text>`,
    `<text x="${PAD.left}" y="${HEIGHT - 24}" text-anchor="middle">1</text>`,
    `<text x="${PAD.left + plotW}" y="${HEIGHT - 24}" text-anchor="middle">${values.length}</text>`,
    `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">iteration — ${name}</text>`,
    `<polyline fill="none" stroke="#08306b" stroke-width="2" points="${points}"/>`,
    '</svg>',
  );
  return parts.join('\n');
}
