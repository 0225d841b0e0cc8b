import fs from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { readApiToken } from '../../common/api-token';
import { dataDir } from '../../common/config';
import type { FeedbackEntry, FeedbackResponse } from '../../common/contract';
import { errors, type FeedbackProblem } from '../../common/errors';
import { parsePositive } from '../options';

interface Flags {
  idColumn: string;
  actualColumn: string;
  rowColumn?: string;
  url: string;
  batch: number;
}

/** An entry and the CSV line it came from. */
interface Line {
  line: number;
  entry: FeedbackEntry;
}

export function feedbackCommand(program: Command): void {
  const feedback = program.command('feedback').description('ground truth for logged predictions (POST /feedback)');
  feedback
    .command('import <file>')
    .description('send the labels of a CSV to the server in batches; refused lines are listed with their line number')
    .requiredOption('--id-column <name>', 'column holding the request id (the x-request-id of the prediction)')
    .requiredOption('--actual-column <name>', 'column holding the true label (a number for regression)')
    .option('--row-column <name>', 'column holding the row within the request (default: every label is row 0)')
    .option('--url <url>', 'feedback endpoint', `http://127.0.0.1:${process.env.MLOPS_PORT ?? 8000}/feedback`)
    .option('--batch <n>', 'entries per request', (v) => parsePositive(v), 500)
    .action(async (file: string, flags: Flags) => {
      const { lines, refused } = readLines(file, flags);
      let accepted = 0;
      let duplicates = 0;
      let refusedByServer = 0;
      for (let i = 0; i < lines.length; i += flags.batch) {
        const sent = await sendBatch(flags.url, lines.slice(i, i + flags.batch), (line, reason) => {
          process.stderr.write(`${file}:${line}: ${reason}\n`);
          refusedByServer++;
        });
        accepted += sent.accepted;
        duplicates += sent.duplicates;
      }
      const total = lines.length + refused;
      process.stderr.write(
        `${accepted} labels stored, ${duplicates} already stored, ${refused + refusedByServer} refused (${total} lines)\n`,
      );
      if (refused + refusedByServer > 0) throw errors.feedbackRefused(file, refused + refusedByServer, total);
    });
}

/** The CSV's entries; lines that cannot be an entry are reported here (file:line) and counted. */
function readLines(file: string, flags: Flags): { lines: Line[]; refused: number } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw errors.dataFile(file, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message);
  }
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, { columns: true, info: true, skip_empty_lines: true, bom: true, trim: true });
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw errors.csv(file, e.lines ?? 1, e.message);
  }
  const header = text.split(/\r?\n/, 1)[0];
  for (const column of [flags.idColumn, flags.actualColumn, flags.rowColumn]) {
    if (column !== undefined && records.length > 0 && !(column in records[0].record)) {
      throw errors.schema(file, `no column '${column}' (columns: ${header})`);
    }
  }
  const lines: Line[] = [];
  let refused = 0;
  for (const { record, info } of records) {
    const requestId = record[flags.idColumn];
    const actual = record[flags.actualColumn];
    const rowText = flags.rowColumn === undefined ? '0' : record[flags.rowColumn];
    const row = Number(rowText);
    const problem = !requestId
      ? `empty ${flags.idColumn}`
      : actual === ''
        ? `empty ${flags.actualColumn}`
        : rowText === '' || !Number.isInteger(row) || row < 0
          ? `${flags.rowColumn} must be a whole number >= 0, got '${rowText}'`
          : null;
    if (problem) {
      process.stderr.write(`${file}:${info.lines}: ${problem}\n`);
      refused++;
    } else lines.push({ line: info.lines, entry: { requestId, row, actual } });
  }
  return { lines, refused };
}

/**
 * Posts one batch. The server stores all of a batch or none: entries it refuses (422 unknown or
 * foreign, 409 conflicting) are reported by line and the rest of the batch is sent again.
 */
async function sendBatch(url: string, batch: Line[], report: (line: number, reason: string) => void): Promise<FeedbackResponse> {
  let rest = batch;
  while (rest.length > 0) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeader() },
      body: JSON.stringify(rest.map((l) => l.entry)),
    }).catch((err: Error) => {
      throw errors.unreachable(url, err.message);
    });
    const text = await res.text();
    if (res.ok) return JSON.parse(text) as FeedbackResponse;
    const problems = problemsIn(text);
    if ((res.status !== 422 && res.status !== 409) || problems.length === 0) {
      throw errors.serverAnswered(url, res.status, `${rest.length} feedback entries`, text);
    }
    const bad = new Set(problems.map((p) => p.index));
    for (const p of problems) report(rest[p.index].line, `requestId '${p.requestId}', row ${p.row}: ${p.reason}`);
    rest = rest.filter((_, i) => !bad.has(i));
  }
  return { accepted: 0, duplicates: 0 };
}

function problemsIn(text: string): FeedbackProblem[] {
  try {
    const body = JSON.parse(text) as { details?: { problems?: FeedbackProblem[] } };
    return body.details?.problems ?? [];
  } catch {
    return [];
  }
}

/** MLOPS_FEEDBACK_TOKEN or _USERNAME/_PASSWORD when set, else the data dir's api-token (which the server also accepts). */
function authHeader(): Record<string, string> {
  const { MLOPS_FEEDBACK_USERNAME: user, MLOPS_FEEDBACK_PASSWORD: pass, MLOPS_FEEDBACK_TOKEN: token } = process.env;
  if (token) return { authorization: `Bearer ${token}` };
  if (user && pass) return { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
  const dirToken = readApiToken(dataDir());
  return dirToken ? { authorization: `Bearer ${dirToken}` } : {};
}
