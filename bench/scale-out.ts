// The scale-out section of `npm run bench` (issue #16's targets), as ratios within one run:
// (a) bench/scale-out-throughput.ts, (b) bench/scale-out-log-rate.ts, (c) bench/scale-out-propagation.ts.
// Needs Debian's haproxy for (a) and (c); PostgreSQL parts are skipped with a note when unavailable.
import { table } from '../cli/format';
import { haproxyAvailable } from '../test/helpers/topology';
import { benchPostgres, sqliteBackend, type BenchBackend } from './scale-out-backends';
import { logRateBench, type LogRateFigures } from './scale-out-log-rate';
import { propagationBench, type PropagationFigures } from './scale-out-propagation';
import { throughputBench, type ThroughputFigures } from './scale-out-throughput';

export interface ScaleOutReport {
  notes: string[];
  throughput: ThroughputFigures[];
  logRate: LogRateFigures[];
  propagation: PropagationFigures[];
}

const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** Runs `use` on each backend: SQLite, then a fresh PostgreSQL database (or a note why not). */
async function eachBackend<T>(label: string, notes: string[], use: (b: BenchBackend) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (const make of [async () => sqliteBackend(), () => benchPostgres(label)]) {
    const b = await make();
    if (typeof b === 'string') {
      notes.push(`${label}: PostgreSQL left out (${b})`);
      continue;
    }
    try {
      say(`${label} on ${b.label}`);
      out.push(await use(b));
    } finally {
      await b.cleanup();
    }
  }
  return out;
}

export async function scaleOutBench(seconds: number, connections: number): Promise<ScaleOutReport> {
  const report: ScaleOutReport = { notes: [], throughput: [], logRate: [], propagation: [] };
  if (!haproxyAvailable()) report.notes.push("(a) and (c) left out: no haproxy (/usr/sbin/haproxy; Debian's haproxy package)");
  else {
    report.throughput = await eachBackend('(a) throughput', report.notes, (b) => throughputBench(b, seconds, connections));
    report.propagation = await eachBackend('(c) propagation', report.notes, (b) => propagationBench(b));
  }
  report.logRate = await eachBackend('(b) log rate', report.notes, (b) => logRateBench(b, seconds, connections));
  return report;
}

export function printScaleOut(r: ScaleOutReport): void {
  console.log('\nscale-out (issue #16): haproxy + replicas on one machine');
  if (r.throughput.length > 0) {
    console.log(
      table(
        ['(a) 1-row /predict', 'direct req/s', 'haproxy → 2 req/s', 'ratio', 'p99 ms direct / haproxy', 'errors'],
        r.throughput.map((t) => [
          t.backend,
          Math.round(t.direct.requestsPerSecond),
          Math.round(t.balanced.requestsPerSecond),
          t.ratio.toFixed(2),
          `${t.direct.latencyMs.p99} / ${t.balanced.latencyMs.p99}`,
          t.direct.errors + t.balanced.errors,
        ]),
      ),
    );
  }
  if (r.logRate.length > 0) {
    const sqlite = r.logRate.find((l) => l.backend === 'SQLite');
    console.log(
      table(
        ['(b) log, 100-row requests', 'rows/s committed', '× SQLite', 'rows committed', 'rows dropped', 'rows/s predicted'],
        r.logRate.map((l) => [
          l.backend,
          Math.round(l.rowsPerSecond),
          sqlite ? (l.rowsPerSecond / sqlite.rowsPerSecond).toFixed(2) : '-',
          l.committed,
          l.dropped,
          Math.round(l.predictedRowsPerSecond),
        ]),
      ),
    );
  }
  if (r.propagation.length > 0) {
    console.log(
      table(
        ['(c) alias propagation', 'replicas', 'promotes', 'p50 ms', 'max ms'],
        r.propagation.map((p) => [p.backend, p.replicas, p.promotes, p.p50Ms, p.maxMs]),
      ),
    );
  }
  for (const note of r.notes) console.log(`note: ${note}`);
}
