// `npm run bench:train`: our tree trainers against scikit-learn's (single-threaded) and ml-random-forest, on
// the same generated datasets, in one run. Every fit runs in its own process (its peak RSS is its own).
//   --size small   10^4 × 20 (the CI size)
//   --size medium  + 10^5 × 20 and 10^5 × 100 (default)
//   --size large   + 10^6 × 20 and 10^6 × 100
//   --only 1e6x20  just the datasets of that shape (within the size)
//   --json FILE    where the results go (default local_data/bench-train.json)
//   --limit S      seconds a fit may take before it is stopped (default 900; ml-random-forest: 60)
// scikit-learn comes from /usr/bin/python3 (Debian's python3-sklearn); without it its rows say why they are missing.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { table } from '../cli/format';
import { syntheticTable } from '../pipeline/ml/trees/synthetic';
import type { FitResult } from './train-worker';

const ROOT = path.resolve(__dirname, '..');
const PYTHON = '/usr/bin/python3';
const SIZES = {
  small: [[1e4, 20]],
  medium: [
    [1e4, 20],
    [1e5, 20],
    [1e5, 100],
  ],
  large: [
    [1e4, 20],
    [1e5, 20],
    [1e5, 100],
    [1e6, 20],
    [1e6, 100],
  ],
} as const;
const TASKS = ['classification', 'regression'] as const;
type Task = (typeof TASKS)[number];

/** Like-for-like settings: scikit-learn's defaults for boosting (100 iterations, no early stopping); forests of 100 trees of depth 10. */
const GBDT = { ours: { maxIter: 100, earlyStopping: 'off' }, sklearn: { max_iter: 100 } };
const FOREST = {
  ours: { nEstimators: 100, maxDepth: 10, maxFeatures: 'sqrt' },
  sklearn: { n_estimators: 100, max_depth: 10, max_features: 'sqrt' },
};

interface Row {
  rows: number;
  features: number;
  task: Task;
  family: 'gbdt' | 'forest';
  trainer: string;
  result: FitResult | null;
  /** Why there is no result (not installed, over the time limit, failed). */
  note: string | null;
  /** Our CPU time over scikit-learn's for the same family, on our rows. */
  ratio: number | null;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Runs one fit in a child process; null with a reason when it fails or passes the time limit. */
function fit(command: string, args: string[], limitSeconds: number, env: NodeJS.ProcessEnv = {}): Promise<FitResult | string> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitSeconds * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(`stopped after ${limitSeconds} s`);
      else if (code !== 0) resolve(`failed: ${err.trim().split('\n').pop() ?? code}`);
      else resolve(JSON.parse(out.trim().split('\n').pop() as string) as FitResult);
    });
  });
}

function sklearnVersion(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import sklearn; print(sklearn.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Writes the dataset the way train-worker.ts and train_sklearn.py read it. */
function writeDataset(file: string, rows: number, features: number, task: Task): void {
  const { table: t, target } = syntheticTable({ rows, numeric: features, task, nClasses: 2, seed: 1 });
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, new Uint8Array(t.numeric.buffer, t.numeric.byteOffset, t.numeric.byteLength));
  const y = Float64Array.from(target.y);
  fs.writeSync(fd, new Uint8Array(y.buffer));
  fs.closeSync(fd);
}

async function main(): Promise<void> {
  const size = arg('size', 'medium') as keyof typeof SIZES;
  if (!(size in SIZES)) throw new Error(`--size must be one of ${Object.keys(SIZES).join(', ')}`);
  const limit = Number(arg('limit', '900'));
  const jsonFile = path.resolve(arg('json', path.join(ROOT, 'local_data', 'bench-train.json')));
  const sklearn = sklearnVersion();
  const noSklearn = `scikit-learn not installed (${PYTHON}: apt-get install -y python3-sklearn)`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-train-'));
  const rows: Row[] = [];
  const worker = (file: string, n: number, k: number, task: Task, trainer: string, params: object, seconds: number) =>
    fit(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'bench', 'train-worker.ts'), file, String(n), String(k), task, trainer, JSON.stringify(params)],
      seconds,
    );
  const python = (file: string, n: number, k: number, task: Task, model: string, params: object) =>
    sklearn
      ? fit(
          PYTHON,
          [path.join(ROOT, 'bench', 'train_sklearn.py'), file, String(n), String(k), task, model, JSON.stringify(params)],
          limit,
          {
            OMP_NUM_THREADS: '1',
          },
        )
      : Promise.resolve(noSklearn);
  try {
    const only = arg('only', '');
    for (const [n, k] of SIZES[size].filter(([n, k]) => only === '' || only === `${n.toExponential(0).replace('e+', 'e')}x${k}`)) {
      for (const task of TASKS) {
        const file = path.join(dir, `${task}-${n}x${k}.bin`);
        writeDataset(file, n, k, task);
        const runs: [Row['family'], string, () => Promise<FitResult | string>][] = [
          ['gbdt', 'ours gradient_boosting', () => worker(file, n, k, task, 'gradient_boosting', GBDT.ours, limit)],
          ['gbdt', `sklearn HistGradientBoosting`, () => python(file, n, k, task, 'hgb', GBDT.sklearn)],
          ['forest', 'ours random_forest', () => worker(file, n, k, task, 'random_forest', FOREST.ours, limit)],
          ['forest', 'sklearn RandomForest', () => python(file, n, k, task, 'rf', FOREST.sklearn)],
          [
            'forest',
            'ml-random-forest',
            () => worker(file, n, k, task, 'ml-random-forest', { ...FOREST.ours, maxFeatures: Math.sqrt(k) / k }, Math.min(60, limit)),
          ],
        ];
        for (const [family, trainer, run] of runs) {
          const r = await run();
          const row: Row = {
            rows: n,
            features: k,
            task,
            family,
            trainer,
            result: typeof r === 'string' ? null : r,
            note: typeof r === 'string' ? r : null,
            ratio: null,
          };
          rows.push(row);
          console.error(`${n}×${k} ${task} ${trainer}: ${row.result ? `${row.result.cpuSeconds.toFixed(2)} s CPU` : row.note}`);
        }
        fs.rmSync(file);
        for (const family of ['gbdt', 'forest'] as const) {
          const mine = rows.find(
            (r) => r.rows === n && r.features === k && r.task === task && r.family === family && r.trainer.startsWith('ours'),
          );
          const theirs = rows.find(
            (r) => r.rows === n && r.features === k && r.task === task && r.family === family && r.trainer.startsWith('sklearn'),
          );
          if (mine?.result && theirs?.result) mine.ratio = mine.result.cpuSeconds / theirs.result.cpuSeconds;
        }
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    sklearn,
  };
  console.log(
    `${machine.cpu} (${machine.cpus} cores), Node ${machine.node}, scikit-learn ${sklearn ?? 'not installed'}; single-threaded fits`,
  );
  console.log(
    table(
      ['data', 'trainer', 'fit s', 'CPU s', 'peak RSS MiB', 'accuracy / R²', '× sklearn (CPU)'],
      rows.map((r) => [
        `${r.rows.toExponential(0).replace('e+', 'e')}×${r.features} ${r.task === 'classification' ? 'clf' : 'reg'}`,
        r.trainer,
        r.result ? r.result.fitSeconds.toFixed(2) : (r.note ?? '-'),
        r.result ? r.result.cpuSeconds.toFixed(2) : '-',
        r.result ? r.result.peakRssMiB.toFixed(0) : '-',
        r.result ? r.result.score.toFixed(4) : '-',
        r.ratio === null ? '' : r.ratio.toFixed(2),
      ]),
    ),
  );
  fs.mkdirSync(path.dirname(jsonFile), { recursive: true });
  fs.writeFileSync(jsonFile, JSON.stringify({ machine, size, settings: { gbdt: GBDT, forest: FOREST }, rows }, null, 2) + '\n');
  console.log(`results: ${jsonFile}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
