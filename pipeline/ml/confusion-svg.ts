// Hand-written SVG: the chart is a fixed grid of rects and text, which needs no plotting library.

const CELL = 64;
const FONT = 13;
/** Rough width of a character at FONT size, to reserve room for labels without measuring text. */
const CHAR_WIDTH = 7.5;
const LIGHT = [247, 251, 255];
const DARK = [8, 48, 107];

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

/** Colour between LIGHT (share 0) and DARK (share 1). */
function shade(share: number): string {
  const channel = (i: number) => Math.round(LIGHT[i] + (DARK[i] - LIGHT[i]) * share);
  return `rgb(${channel(0)},${channel(1)},${channel(2)})`;
}

/**
 * Standalone SVG heatmap of confusion[true][predicted]: cells shaded by the share of their true-class
 * row, with the count written in each cell.
 */
export function confusionMatrixSvg(confusion: number[][], labels: string[], title: string): string {
  const n = labels.length;
  if (confusion.length !== n || confusion.some((row) => row.length !== n)) {
    throw new Error(`confusion matrix must be ${n}×${n} to match its labels`);
  }
  const labelWidth = Math.ceil(Math.max(...labels.map((l) => l.length), 1) * CHAR_WIDTH) + 12;
  const gridLeft = 32 + labelWidth;
  const gridTop = 48;
  const gridSize = n * CELL;
  const columnLabelsHeight = Math.ceil(labelWidth * 0.6) + 16;
  const width = Math.max(gridLeft + gridSize + 16, Math.ceil(title.length * CHAR_WIDTH * 1.2) + 32);
  const height = gridTop + gridSize + columnLabelsHeight + 28;
  const centre = (i: number) => i * CELL + CELL / 2;

  const cells = confusion.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.flatMap((count, p) => {
      const share = total === 0 ? 0 : count / total;
      const x = gridLeft + p * CELL;
      const y = gridTop + t * CELL;
      const tip = `true ${labels[t]}, predicted ${labels[p]}: ${count} (${(share * 100).toFixed(1)}% of row)`;
      const ink = share > 0.5 ? '#ffffff' : '#1a1a1a';
      return [
        `<rect x="${x}" y="${y}" width="${CELL}" height="${CELL}" fill="${shade(share)}" stroke="#ffffff">` +
          `<title>${escapeXml(tip)}</title></rect>`,
        `<text x="${x + CELL / 2}" y="${y + CELL / 2}" text-anchor="middle" dominant-baseline="central" fill="${ink}">${count}</text>`,
      ];
    });
  });
  const rowLabels = labels.map(
    (label, t) =>
      `<text x="${gridLeft - 8}" y="${gridTop + centre(t)}" text-anchor="end" dominant-baseline="central">${escapeXml(label)}</text>`,
  );
  const columnLabelY = gridTop + gridSize + 14;
  const columnLabels = labels.map((label, p) => {
    const x = gridLeft + centre(p);
    const anchor = `x="${x}" y="${columnLabelY}" text-anchor="end" dominant-baseline="central"`;
    return `<text ${anchor} transform="rotate(-35 ${x} ${columnLabelY})">${escapeXml(label)}</text>`;
  });
  const trueY = gridTop + gridSize / 2;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="sans-serif" font-size="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="${FONT + 3}" font-weight="bold">${escapeXml(title)}</text>`,
    ...cells,
    ...rowLabels,
    ...columnLabels,
    `<text x="16" y="${trueY}" text-anchor="middle" font-weight="bold" transform="rotate(-90 16 ${trueY})">true</text>`,
    `<text x="${gridLeft + gridSize / 2}" y="${height - 12}" text-anchor="middle" font-weight="bold">predicted</text>`,
    '</svg>',
    '',
  ].join('\n');
}
