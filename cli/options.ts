// Parsers for command-line option values, shared by the commands.
import { InvalidArgumentError } from 'commander';

/** A whole number ≥ 1; commander reports anything else as a usage error (exit 2). */
export function parsePositive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive whole number, got '${v}'`);
  return n;
}
