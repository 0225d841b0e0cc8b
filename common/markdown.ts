// Markdown that renders literally what it is given: the model card (common/model-card.ts) is shown in
// a Markdown preview, and much of it comes from users and data files.

// No tag can open once < is an entity, so quotes need no escaping.
const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * Text as Markdown that renders literally: HTML characters become entities and Markdown's active
 * characters (links, images, emphasis, code, tables, headings, lists) are backslash-escaped, so no tag,
 * link or image can be injected. Newlines are kept; `inline` text (a table cell, text inside a line)
 * is flattened to one line and needs no list escape.
 */
export function escapeText(text: string, inline = false): string {
  const flat = inline ? text.replace(/\r?\n|\r/g, ' ') : text;
  const escaped = flat.replace(/[&<>]/g, (c) => HTML[c]).replace(/[\\`*_[\]|~#]/g, (c) => `\\${c}`);
  if (inline) return escaped;
  // A line that would open a list stays text (a quote's > is an entity already).
  return escaped.replace(/^(\s*)([-+])/gm, '$1\\$2').replace(/^(\s*\d+)([.)])/gm, '$1\\$2');
}

/** A table cell, or any text inside a line. */
export const cell = (text: string) => escapeText(text, true);
/** One line of author text where a line starts (a list item's text): flattened, and unable to open a list of its own. */
export const line = (text: string) => escapeText(text.replace(/\s*(\r?\n|\r)\s*/g, ' ').trim());
export const num = (v: number | undefined | null, digits = 4) =>
  v === undefined || v === null || !Number.isFinite(v) ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(digits);
export const pct = (share: number) => `${(share * 100).toFixed(1)}%`;

export function table(header: string[], rows: string[][]): string {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');
}

/** Paragraphs of author text, escaped; blank lines separate paragraphs. */
export function prose(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((p) => escapeText(p.trim()).replace(/\n/g, ' '))
    .filter((p) => p.length > 0)
    .join('\n\n');
}
