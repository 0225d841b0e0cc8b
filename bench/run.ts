// `npm run bench`: the prediction server against the HTTP ceiling, on this machine, in one run.
//   (a) bare Fastify constant route   (b) /predict 1 row   (c) /predict 100 rows   (d) OIP infer 100 rows
// (b)-(d) with the prediction log on and off; then promotes under load; then (e) a mixed-type classifier
// (per-column float, int64, bool, string inputs) and (f) a regression model with a string category
// (test/helpers/typed-models.ts), /predict at 1 and 100 rows and OIP at 100, log on; (g) /predict with a challenger in
// shadow (every request) and as a 10% canary, log on (compare with (b) and (c) log on). The server runs in its own
// process (dist/server.js), the load generator (autocannon) in this one. BENCH_SECONDS sets the
// length of each scenario (default 5), BENCH_CONNECTIONS the connections (default 32), BENCH_TRAIN_PARAMS
// the served iris version's params (e.g. "trainer=random_forest nEstimators=100": a larger forest).
// Then the scale-out section (bench/scale-out.ts: haproxy + replicas, the log per backend, alias
// propagation). `npm run bench -- serving` or `npm run bench -- scale-out` runs one section only.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runLoad } from '../cli/load';
import { table } from '../cli/format';
import { apiTokenHeader } from '../common/api-token';
import type { LoadTestResult } from '../common/contract';
import { mixedClassifier, registerTyped, regressionModel } from '../test/helpers/typed-models';
import { printScaleOut, scaleOutBench } from './scale-out';

const ROOT = path.resolve(__dirname, '..');
/** The bench trains the iris example: one of its records (the original template's sample). */
const IRIS_RECORD = { sepal_length: 6.7, sepal_width: 3.5, petal_length: 5.2, petal_width: 2.3 };
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

/** The typed models' scenarios: a record, and N rows as OIP per-column tensors with their own datatypes. */
const column = (name: string, datatype: string, value: unknown, n: number) => ({
  name,
  datatype,
  shape: [n, 1],
  data: Array(n).fill(value),
});
const TYPED = [
  {
    label: '(e) mixed-type',
    name: 'mixed',
    build: mixedClassifier,
    record: { length: 5, rooms: 2, garden: true, color: 'blue' },
    oip: (n: number) => ({
      inputs: [
        column('length', 'FP32', 5, n),
        column('rooms', 'INT64', 2, n),
        column('garden', 'BOOL', true, n),
        column('color', 'BYTES', 'blue', n),
      ],
    }),
  },
  {
    label: '(f) regression',
    name: 'houses',
    build: regressionModel,
    record: { area: 50, age: 3, city: 'paris' },
    oip: (n: number) => ({
      inputs: [
        { name: 'numbers', datatype: 'FP32', shape: [n, 2], data: Array(n).fill([50, 3]).flat() },
        column('city', 'BYTES', 'paris', n),
      ],
    }),
  },
];
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const TRAIN_PARAMS = (process.env.BENCH_TRAIN_PARAMS ?? '').split(/\s+/).filter(Boolean);

interface Row {
  scenario: string;
  log: 'on' | 'off' | '-';
  result: LoadTestResult;
  rssMiB: number | null;
}

function mlops(dataDir: string, args: string[]): void {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'mlops.js'), ...args], {
    env: { ...process.env, MLOPS_DATA_DIR: dataDir },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`mlops ${args.join(' ')}: ${r.stderr}`);
}

async function start(command: string[], env: NodeJS.ProcessEnv, port: number, ready: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, command, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}${ready}`, {
      method: ready === '/predict' ? 'POST' : 'GET',
      headers: { 'content-type': 'application/json' },
      body: ready === '/predict' ? '[]' : undefined,
    }).then(
      () => true,
      () => false,
    );
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${command.join(' ')} did not start`);
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function rssMiB(pid: number | undefined): number | null {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

const load = (port: number, route: string, body: unknown, rows: number) =>
  runLoad({
    url: `http://127.0.0.1:${port}${route}`,
    connections: CONNECTIONS,
    durationSeconds: SECONDS,
    body: JSON.stringify(body),
    rowsPerRequest: rows,
  });

async function servingBench(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-bench-'));
  process.stderr.write(`bench: training two iris versions in ${dataDir}\n`);
  mlops(dataDir, ['train', '-q', ...TRAIN_PARAMS.flatMap((p) => ['--param', p])]);
  mlops(dataDir, ['train', '-q', '--param', 'trainer=logistic_regression']);
  mlops(dataDir, ['models', 'promote', 'iris', '1']);
  const port = 18000 + Math.floor(Math.random() * 1000);
  const rows: Row[] = [];
  const one = [IRIS_RECORD];
  const hundred = Array(100).fill(IRIS_RECORD);
  const oip = { inputs: [{ name: 'input', shape: [100, 4], datatype: 'FP32', data: Array(100).fill(Object.values(IRIS_RECORD)).flat() }] };

  process.stderr.write('bench: (a) bare Fastify\n');
  const bare = await start([path.join(ROOT, 'bench', 'bare-fastify.mjs'), String(port)], {}, port, '/predict');
  await load(port, '/predict', one, 1); // warm-up
  rows.push({ scenario: '(a) bare Fastify, constant', log: '-', result: await load(port, '/predict', one, 1), rssMiB: rssMiB(bare.pid) });
  await stop(bare);

  let promoteFailures = 0;
  let promotions = 0;
  for (const log of ['on', 'off'] as const) {
    const env = {
      MLOPS_DATA_DIR: dataDir,
      MLOPS_PORT: String(port),
      LOG_PREDICTIONS: log === 'on' ? 'true' : 'false',
      MLOPS_REQUEST_LOG: 'false',
    };
    const server = await start([path.join(ROOT, 'dist', 'server.js')], env, port, '/readyz');
    await load(port, '/predict', one, 1); // warm-up
    for (const [scenario, route, body, n] of [
      ['(b) /predict, 1 row', '/predict', one, 1],
      ['(c) /predict, 100 rows', '/predict', hundred, 100],
      ['(d) OIP infer, 100 rows', '/v2/models/iris/infer', oip, 100],
    ] as const) {
      process.stderr.write(`bench: ${scenario}, prediction log ${log}\n`);
      rows.push({ scenario, log, result: await load(port, route, body, n), rssMiB: rssMiB(server.pid) });
    }
    if (log === 'on') {
      process.stderr.write('bench: promotes under load\n');
      const during = load(port, '/predict', one, 1);
      for (let i = 0; i < 8; i++) {
        await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 10));
        const res = await fetch(`http://127.0.0.1:${port}/api/models/iris/aliases/production`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json', ...apiTokenHeader(dataDir) },
          body: JSON.stringify({ version: i % 2 === 0 ? 2 : 1 }),
        });
        if (res.status === 200) promotions++;
      }
      const result = await during;
      promoteFailures = result.errors;
      rows.push({ scenario: `(b) during ${promotions} promotes`, log, result, rssMiB: rssMiB(server.pid) });
    }
    await stop(server);
  }

  // (g) the same /predict with iris v2 as the challenger: in shadow (every request), then as a 10% canary.
  mlops(dataDir, ['models', 'promote', 'iris', '2', '--alias', 'challenger']);
  {
    const env = { MLOPS_DATA_DIR: dataDir, MLOPS_PORT: String(port), LOG_PREDICTIONS: 'true', MLOPS_REQUEST_LOG: 'false' };
    const server = await start([path.join(ROOT, 'dist', 'server.js')], env, port, '/readyz');
    await load(port, '/predict', one, 1); // warm-up
    for (const [mode, share] of [
      ['shadow', 1],
      ['canary', 0.1],
    ] as const) {
      const res = await fetch(`http://127.0.0.1:${port}/api/challenger`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...apiTokenHeader(dataDir) },
        body: JSON.stringify({ mode, share }),
      });
      if (res.status !== 200) throw new Error(`PUT /api/challenger: ${res.status} ${await res.text()}`);
      for (const [scenario, body, n] of [
        [`(g) /predict 1 row, challenger ${mode} ${share}`, one, 1],
        [`(g) /predict 100 rows, challenger ${mode} ${share}`, hundred, 100],
      ] as const) {
        process.stderr.write(`bench: ${scenario}\n`);
        rows.push({ scenario, log: 'on', result: await load(port, '/predict', body, n), rssMiB: rssMiB(server.pid) });
      }
    }
    await stop(server);
  }

  for (const typed of TYPED) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-bench-typed-'));
    await registerTyped(dir, typed.name, typed.build());
    const env = { MLOPS_DATA_DIR: dir, MLOPS_PORT: String(port), LOG_PREDICTIONS: 'true', MLOPS_REQUEST_LOG: 'false' };
    const server = await start([path.join(ROOT, 'dist', 'server.js')], env, port, '/readyz');
    const hundredRecords = Array(100).fill(typed.record);
    await load(port, '/predict', [typed.record], 1); // warm-up
    for (const [scenario, route, body, n] of [
      [`${typed.label}, /predict 1 row`, '/predict', [typed.record], 1],
      [`${typed.label}, /predict 100 rows`, '/predict', hundredRecords, 100],
      [`${typed.label}, OIP 100 rows`, `/v2/models/${typed.name}/infer`, typed.oip(100), 100],
    ] as const) {
      process.stderr.write(`bench: ${scenario}\n`);
      rows.push({ scenario, log: 'on', result: await load(port, route, body, n), rssMiB: rssMiB(server.pid) });
    }
    await stop(server);
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const ceiling = rows[0].result.requestsPerSecond;
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}`;
  console.log(`\nnpm run bench — ${machine}, ${CONNECTIONS} connections, ${SECONDS} s each`);
  console.log(
    table(
      ['scenario', 'log', 'req/s', 'rows/s', 'p50 ms', 'p99 ms', '× (a)', 'errors', 'RSS MiB'],
      rows.map((r) => [
        r.scenario,
        r.log,
        Math.round(r.result.requestsPerSecond),
        Math.round(r.result.rowsPerSecond),
        r.result.latencyMs.p50,
        r.result.latencyMs.p99,
        (r.result.requestsPerSecond / ceiling).toFixed(2),
        r.result.errors,
        r.rssMiB ?? '-',
      ]),
    ),
  );
  console.log(`failed requests during ${promotions} promotes under load: ${promoteFailures}`);
  const out = resultFile();
  fs.writeFileSync(
    out,
    JSON.stringify(
      {
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
        connections: CONNECTIONS,
        seconds: SECONDS,
        rows,
        promotions,
        promoteFailures,
      },
      null,
      2,
    ),
  );
  console.log(`results: ${out}`);
  fs.rmSync(dataDir, { recursive: true, force: true });
}

function resultFile(suffix = ''): string {
  const out = path.join(ROOT, 'local_data', 'bench', `${new Date().toISOString().replace(/[:.]/g, '-')}${suffix}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  return out;
}

async function main(): Promise<void> {
  const only = process.argv[2];
  if (only !== undefined && only !== 'serving' && only !== 'scale-out') throw new Error(`unknown section ${only}: serving or scale-out`);
  if (only !== 'scale-out') await servingBench();
  if (only !== 'serving') {
    const report = await scaleOutBench(SECONDS, CONNECTIONS);
    printScaleOut(report);
    const out = resultFile('-scale-out');
    const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version };
    fs.writeFileSync(out, JSON.stringify({ machine, connections: CONNECTIONS, seconds: SECONDS, ...report }, null, 2));
    console.log(`results: ${out}`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exit(1);
});
