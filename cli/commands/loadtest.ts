import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { dataDir } from '../../common/config';
import { errors } from '../../common/errors';
import { num, printJson, table } from '../format';
import { runLoad, servedSample } from '../load';
import { parsePositive } from '../options';

interface Flags {
  url: string;
  connections: number;
  duration: number;
  rows: number;
  body?: string;
  out?: string;
  json?: boolean;
}

export function loadtestCommand(program: Command): void {
  program
    .command('loadtest')
    .description('load-test /predict with autocannon: req/s, latency p50/p90/p99, errors; results as JSON too')
    .option('--url <url>', 'endpoint', `http://127.0.0.1:${process.env.MLOPS_PORT ?? 8000}/predict`)
    .option('-c, --connections <n>', 'concurrent connections', (v) => parsePositive(v), 32)
    .option('-d, --duration <seconds>', 'how long', (v) => parsePositive(v), 10)
    .option('-r, --rows <n>', "records per request, from the served model's signature (ignored with --body)", (v) => parsePositive(v), 1)
    .option('--body <file>', 'JSON body to send instead of the sample records')
    .option('-o, --out <file>', 'results file (default local_data/loadtests/<time>.json)')
    .option('--json', 'print the results as JSON')
    .action(async (flags: Flags) => {
      const body = flags.body ? readBody(flags.body) : JSON.stringify(Array(flags.rows).fill(await servedSample(flags.url, dataDir())));
      const rows = flags.body ? rowsIn(body) : flags.rows;
      const headers = authHeader();
      const probe = await fetch(flags.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).catch(
        (err: Error) => {
          throw errors.unreachable(flags.url, err.message);
        },
      );
      if (probe.status >= 400) throw errors.serverAnswered(flags.url, probe.status, 'the test body', await probe.text());
      if (!flags.json)
        process.stderr.write(
          `load-testing ${flags.url}: ${flags.connections} connections, ${flags.duration} s, ${rows} row(s) per request\n`,
        );
      const result = await runLoad({
        url: flags.url,
        connections: flags.connections,
        durationSeconds: flags.duration,
        body,
        rowsPerRequest: rows,
        headers,
        onTick: (n, s) => !flags.json && process.stderr.write(`  ${s}/${flags.duration} s: ${n} req/s\n`),
      });
      const out = flags.out ?? path.join(dataDir(), 'loadtests', `${result.startedAt.replace(/[:.]/g, '-')}.json`);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, JSON.stringify(result, null, 2));
      if (flags.json) return printJson(result);
      console.log(
        table(
          ['req/s', 'rows/s', 'p50 ms', 'p90 ms', 'p99 ms', 'requests', 'errors'],
          [
            [
              num(Math.round(result.requestsPerSecond)),
              num(Math.round(result.rowsPerSecond)),
              num(result.latencyMs.p50),
              num(result.latencyMs.p90),
              num(result.latencyMs.p99),
              result.requests,
              result.errors,
            ],
          ],
        ),
      );
      console.log(`results: ${out}`);
      if (result.errors > 0) process.exitCode = 1;
    });
}

function readBody(file: string): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    JSON.parse(text);
    return text;
  } catch (err) {
    throw errors.unreadable(`--body ${file}`, (err as Error).message);
  }
}

function rowsIn(body: string): number {
  const parsed = JSON.parse(body) as unknown;
  return Array.isArray(parsed) ? parsed.length : 1;
}

/** The same credentials the server reads, so a protected /predict can be load-tested. */
function authHeader(): Record<string, string> {
  const { PREDICT_USERNAME: user, PREDICT_PASSWORD: pass, PREDICT_TOKEN: token } = process.env;
  if (token) return { authorization: `Bearer ${token}` };
  if (user && pass) return { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
  return {};
}
