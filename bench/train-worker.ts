// One fit of `npm run bench:train`, in its own process so that its peak RSS is its own: reads the bench's
// binary dataset (float32 features, then float64 targets), fits on the first 80% of rows, scores the rest.
// argv: data file, rows, features, task, trainer (gradient_boosting | random_forest | ml-random-forest), params JSON.
import fs from 'node:fs';

import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';

import { trainGradientBoosting } from '../pipeline/ml/trees/boosting';
import { trainRandomForest } from '../pipeline/ml/trees/forest';
import { selectRows, selectTarget, type TreeTable, type TreeTarget } from '../pipeline/ml/trees/table';

export interface FitResult {
  fitSeconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  score: number;
}

function score(target: TreeTarget, predicted: ArrayLike<number>): number {
  const y = target.y;
  if (target.task === 'classification') {
    let right = 0;
    for (let i = 0; i < y.length; i++) right += predicted[i] === y[i] ? 1 : 0;
    return right / y.length;
  }
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i] / y.length;
  let ss = 0;
  let tot = 0;
  for (let i = 0; i < y.length; i++) {
    ss += (predicted[i] - y[i]) ** 2;
    tot += (y[i] - mean) ** 2;
  }
  return 1 - ss / tot;
}

function toRows(table: TreeTable): number[][] {
  const k = table.numericNames.length;
  return Array.from({ length: table.nRows }, (_, i) => Array.from(table.numeric.subarray(i * k, i * k + k)));
}

function main(): void {
  const [file, rowsArg, featuresArg, task, trainer, paramsJson] = process.argv.slice(2);
  const n = Number(rowsArg);
  const k = Number(featuresArg);
  const params = JSON.parse(paramsJson) as Record<string, unknown>;
  const buf = fs.readFileSync(file);
  const numeric = new Float32Array(buf.buffer, buf.byteOffset, n * k);
  const yAll = new Float64Array(buf.buffer.slice(buf.byteOffset + n * k * 4, buf.byteOffset + n * k * 4 + n * 8));
  const table: TreeTable = { nRows: n, numericNames: Array.from({ length: k }, (_, j) => `x${j}`), numeric, categorical: [] };
  const target: TreeTarget =
    task === 'classification'
      ? { task, y: Int32Array.from(yAll), nClasses: yAll.reduce((m, v) => Math.max(m, v), 0) + 1 }
      : { task: 'regression', y: yAll };
  const cut = n - Math.floor(n / 5);
  const trainRows = Uint32Array.from({ length: cut }, (_, i) => i);
  const testRows = Uint32Array.from({ length: n - cut }, (_, i) => cut + i);
  const train = selectRows(table, trainRows);
  const test = selectRows(table, testRows);
  const trainTarget = selectTarget(target, trainRows);
  const testTarget = selectTarget(target, testRows);
  const wall = performance.now();
  const cpu = process.cpuUsage();
  let predict: () => ArrayLike<number>;
  if (trainer === 'ml-random-forest') {
    const X = toRows(train);
    const p = params as { nEstimators: number; maxFeatures: number; maxDepth: number };
    const options = { nEstimators: p.nEstimators, maxFeatures: p.maxFeatures, seed: 0, noOOB: true, treeOptions: { maxDepth: p.maxDepth } };
    const forest = target.task === 'classification' ? new RandomForestClassifier(options) : new RandomForestRegression(options);
    forest.train(X, Array.from(trainTarget.y));
    predict = () => forest.predict(toRows(test));
  } else {
    const model =
      trainer === 'gradient_boosting' ? trainGradientBoosting(train, trainTarget, params) : trainRandomForest(train, trainTarget, params);
    predict = () => {
      const p = model.predict(test);
      return p.labels ?? p.values;
    };
  }
  const fitSeconds = (performance.now() - wall) / 1000;
  const used = process.cpuUsage(cpu);
  const result: FitResult = {
    fitSeconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    score: score(testTarget, predict()),
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

main();
