import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { trainRandomForest } from './random-forest';
import type { Classifier } from './classifier';

const lines = readFileSync('pipeline/examples/iris/iris_dataset.csv', 'utf8').trim().split('\n').slice(1);
const classes = ['Setosa', 'Versicolor', 'Virginica'];
const X = lines.map((l) => l.split(',').slice(0, 4).map(Number));
const y = lines.map((l) => classes.indexOf(l.split(',')[4].replace(/"/g, '')));
const bi = y.map((v, i) => i).filter((i) => y[i] > 0);
const Xb = bi.map((i) => X[i]), yb = bi.map((i) => y[i] - 1);
const names = { inputName: 'input', labelOutput: 'label', probabilitiesOutput: 'probabilities' };

async function check(tag: string, model: Classifier, X: number[][]) {
  const s = await ort.InferenceSession.create(Buffer.from(model.toOnnx(names)));
  const p = model.predictProba(X); const lab = model.predict(X);
  const run = async (rows: number[][]) => {
    const out = await s.run({ input: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0].length]) });
    return { l: Array.from(out.label.data as BigInt64Array, Number), z: Array.from(out.probabilities.data as Float32Array) };
  };
  const batch = await run(X);
  let labMis = 0, single = 0, maxd = 0, ties = 0;
  for (let i = 0; i < X.length; i++) {
    if (batch.l[i] !== lab[i]) labMis++;
    for (let k = 0; k < model.nClasses; k++) maxd = Math.max(maxd, Math.abs(batch.z[i * model.nClasses + k] - p[i][k]));
    const o = await run([X[i]]);
    if (o.l[0] !== lab[i]) single++;
    const sorted = [...p[i]].sort((a, b) => b - a); if (sorted[0] === sorted[1]) ties++;
  }
  console.log(tag, { labMis, single, maxd, ties });
}

async function main() {
for (const n of [10, 50, 100, 200, 300]) {
  const t0 = performance.now();
  const m = trainRandomForest(X, y, 3, { nEstimators: n, maxDepth: 5, seed: 42, maxFeatures: 2 });
  console.log('train ms', n, (performance.now() - t0).toFixed(1));
  await check(`rf3 n=${n}`, m, X);
}
for (const n of [10, 11, 100]) {
  await check(`rf2 n=${n}`, trainRandomForest(Xb, yb, 2, { nEstimators: n, maxDepth: 3, seed: 7, maxFeatures: 2 }), Xb);
}
}
void main();
import { trainSoftmaxRegression } from './softmax-regression';
async function main2() {
  for (const [epochs, lr, l2] of [[200, 0.5, 0], [1000, 0.5, 1e-3], [2000, 0.5, 1e-4], [500, 1, 0]] as const) {
    const t0 = performance.now();
    const m = trainSoftmaxRegression(X, y, 3, { epochs, learningRate: lr, l2 });
    const ms = performance.now() - t0;
    const acc = m.predict(X).filter((p, i) => p === y[i]).length / X.length;
    console.log('lr', { epochs, lr, l2, ms: ms.toFixed(1), acc });
    await check(`lr3 ${epochs}`, m, X);
  }
  await check('lr2', trainSoftmaxRegression(Xb, yb, 2, { epochs: 500, learningRate: 0.5, l2: 1e-3 }), Xb);
}
setTimeout(() => void main2(), 3000);
