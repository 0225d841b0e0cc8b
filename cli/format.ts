import Table from 'cli-table3';

/** A plain table for the terminal (no colours, so it reads the same in logs and CI). */
export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  t.push(...rows.map((r) => r.map(String)));
  return t.toString();
}

export function seconds(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : `${(ms / 1000).toFixed(2)}s`;
}

export function num(v: number | undefined): string {
  if (v === undefined) return '-';
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

export function when(iso: string | null): string {
  return iso ? iso.replace('T', ' ').slice(0, 19) : '-';
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/**
 * A command's result on stdout: JSON with --json (for scripts), else its human form (a table, a
 * line). One place decides, so every command's --json prints exactly the value its text shows.
 */
export function printResult<T>(flags: { json?: boolean }, value: T, human: (value: T) => string): void {
  if (flags.json) printJson(value);
  else console.log(human(value));
}
