// Hand-written SVG charts of a regression's test split, as confusion-svg.ts draws a classifier's:
// predicted against actual values (a scatter with the y = x diagonal) and the residual histogram.

const WIDTH = 480;
const HEIGHT = 400;
const MARGIN = { left: 72, right: 24, top: 48, bottom: 56 };
const FONT = 13;
const INK = '#1a1a1a';
const POINT = 'rgb(8,48,107)';

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

/** A short label for an axis tick. */
function tick(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

/** [lo, hi] widened so that a constant series still gets a visible range. */
function range(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

interface Frame {
  x: (v: number) => number;
  y: (v: number) => number;
  parts: string[];
}

/** The SVG's background, title, axes with five ticks each, and axis titles; `x` and `y` map data to pixels. */
function frame(title: string, xRange: [number, number], yRange: [number, number], xTitle: string, yTitle: string): Frame {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (v: number) => MARGIN.left + ((v - xRange[0]) / (xRange[1] - xRange[0])) * plotW;
  const y = (v: number) => MARGIN.top + plotH - ((v - yRange[0]) / (yRange[1] - yRange[0])) * plotH;
  const bottom = MARGIN.top + plotH;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
      `font-family="sans-serif" font-size="${FONT}">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="26" text-anchor="middle" font-size="${FONT + 3}" font-weight="bold">${escapeXml(title)}</text>`,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999999"/>`,
    ...ticks.map((t) => {
      const v = xRange[0] + t * (xRange[1] - xRange[0]);
      return `<text x="${x(v)}" y="${bottom + 18}" text-anchor="middle" fill="${INK}">${tick(v)}</text>`;
    }),
    ...ticks.map((t) => {
      const v = yRange[0] + t * (yRange[1] - yRange[0]);
      return `<text x="${MARGIN.left - 6}" y="${y(v)}" text-anchor="end" dominant-baseline="central" fill="${INK}">${tick(v)}</text>`;
    }),
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle" font-weight="bold">${escapeXml(xTitle)}</text>`,
    `<text x="16" y="${MARGIN.top + plotH / 2}" text-anchor="middle" font-weight="bold" ` +
      `transform="rotate(-90 16 ${MARGIN.top + plotH / 2})">${escapeXml(yTitle)}</text>`,
  ];
  return { x, y, parts };
}

/** Scatter of predicted (y) against actual (x) values, with the y = x diagonal a perfect model would sit on. */
export function predictedVsActualSvg(actual: readonly number[], predicted: ArrayLike<number>, title: string): string {
  if (actual.length !== predicted.length) throw new Error(`${actual.length} actual values but ${predicted.length} predictions`);
  const both = range([...actual, ...Array.from(predicted)]);
  const f = frame(title, both, both, 'actual', 'predicted');
  const points = actual.map((a, i) => {
    const p = predicted[i];
    return (
      `<circle cx="${f.x(a).toFixed(1)}" cy="${f.y(p).toFixed(1)}" r="3" fill="${POINT}" fill-opacity="0.6">` +
      `<title>actual ${tick(a)}, predicted ${tick(p)}</title></circle>`
    );
  });
  const diagonal =
    `<line x1="${f.x(both[0])}" y1="${f.y(both[0])}" x2="${f.x(both[1])}" y2="${f.y(both[1])}" ` +
    'stroke="#d62728" stroke-dasharray="4 3"/>';
  return [...f.parts, diagonal, ...points, '</svg>', ''].join('\n');
}

/** Histogram of residuals (predicted − actual) in `bins` equal-width bins. */
export function residualHistogramSvg(actual: readonly number[], predicted: ArrayLike<number>, title: string, bins = 20): string {
  if (actual.length !== predicted.length) throw new Error(`${actual.length} actual values but ${predicted.length} predictions`);
  const residuals = actual.map((a, i) => predicted[i] - a);
  const [lo, hi] = range(residuals);
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const r of residuals) counts[Math.min(bins - 1, Math.floor((r - lo) / width))] += 1;
  const top = Math.max(1, ...counts);
  const f = frame(title, [lo, hi], [0, top], 'residual (predicted − actual)', 'rows');
  const bars = counts.map((c, k) => {
    const x0 = f.x(lo + k * width);
    const x1 = f.x(lo + (k + 1) * width);
    const from = tick(lo + k * width);
    const to = tick(lo + (k + 1) * width);
    return (
      `<rect x="${x0.toFixed(1)}" y="${f.y(c).toFixed(1)}" width="${Math.max(0, x1 - x0 - 1).toFixed(1)}" ` +
      `height="${(f.y(0) - f.y(c)).toFixed(1)}" fill="${POINT}"><title>${from} to ${to}: ${c} rows</title></rect>`
    );
  });
  const zeroLine = `<line x1="${f.x(0)}" y1="${f.y(0)}" x2="${f.x(0)}" y2="${f.y(top)}" stroke="#d62728" stroke-dasharray="4 3"/>`;
  const zero = lo < 0 && hi > 0 ? [zeroLine] : [];
  return [...f.parts, ...bars, ...zero, '</svg>', ''].join('\n');
}
