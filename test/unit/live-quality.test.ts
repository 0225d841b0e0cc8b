import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import client from 'prom-client';
import { classificationQuality, delayQuantiles, liveQuality, regressionQuality } from '../../server/monitoring/live-quality-math';
import { LiveQualityTracker } from '../../server/monitoring/live-quality';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test('classification: accuracy, macro F1 and recall by hand', () => {
  const pairs = [
    ['A', 'A'],
    ['A', 'B'],
    ['B', 'B'],
    ['C', 'B'],
    ['C', 'C'],
    ['A', 'A'],
  ].map(([predicted, actual]) => ({ predicted, actual }));
  const q = classificationQuality(pairs);
  close(q.accuracy, 4 / 6, 'accuracy');
  // F1: A 2·2/(2·2+1+0) = 0.8, B 2/(2+0+2) = 0.5, C 2/(2+1+0) = 2/3
  close(q.macroF1, (0.8 + 0.5 + 2 / 3) / 3, 'macro F1');
  assert.deepEqual(q.recall, { A: 1, B: 1 / 3, C: 1 });
  // A class only ever predicted has an F1 of 0 and no recall (it never occurred).
  const never = classificationQuality([
    { predicted: 'X', actual: 'A' },
    { predicted: 'A', actual: 'A' },
  ]);
  close(never.macroF1, (2 / 3 + 0) / 2, 'macro F1 with a class never actual');
  assert.deepEqual(never.recall, { A: 0.5 });
});

test('classification figures equal scikit-learn on random labels', () => {
  const classes = ['setosa', 'versicolor', 'virginica', 'other'];
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * classes.length;
  const pairs = Array.from({ length: 300 }, () => ({ predicted: classes[Math.floor(rand())], actual: classes[Math.floor(rand())] }));
  const script = `
import json, sys
from sklearn.metrics import accuracy_score, f1_score, recall_score
p = json.load(sys.stdin)
y_true = [x["actual"] for x in p]; y_pred = [x["predicted"] for x in p]
labels = sorted(set(y_true))
print(json.dumps({"accuracy": accuracy_score(y_true, y_pred), "macroF1": f1_score(y_true, y_pred, average="macro"),
  "recall": dict(zip(labels, recall_score(y_true, y_pred, labels=labels, average=None).tolist()))}))
`;
  const py = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(pairs), encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  const expected = JSON.parse(py.stdout) as { accuracy: number; macroF1: number; recall: Record<string, number> };
  const q = classificationQuality(pairs);
  close(q.accuracy, expected.accuracy, 'accuracy');
  close(q.macroF1, expected.macroF1, 'macro F1');
  assert.deepEqual(Object.keys(q.recall).sort(), Object.keys(expected.recall).sort());
  for (const c in expected.recall) close(q.recall[c], expected.recall[c], `recall ${c}`);
});

test('regression: MAE and RMSE by hand', () => {
  const q = regressionQuality([
    { predicted: 1, actual: 2 },
    { predicted: 2, actual: 2 },
    { predicted: 3, actual: 5 },
  ]);
  close(q.mae, 1, 'MAE');
  close(q.rmse, Math.sqrt(5 / 3), 'RMSE');
  assert.deepEqual(regressionQuality([]), { mae: 0, rmse: 0 });
});

test('label delay: nearest-rank median and maximum', () => {
  assert.deepEqual(delayQuantiles([5, 1, 3, 2]), { p50: 2, max: 5 });
  assert.deepEqual(delayQuantiles([3, 1, 2]), { p50: 2, max: 3 });
  assert.equal(delayQuantiles([]), null);
});

test('liveQuality: the window bound, the task from the predictions, NaN predictions left out of the errors', () => {
  const cls = liveQuality('iris', 2, 2, [
    { predicted: 'A', actual: 'A', delayMs: 10 },
    { predicted: 'A', actual: 'B', delayMs: 30 },
    { predicted: 'B', actual: 'B', delayMs: 1000 }, // beyond the window of 2
  ]);
  assert.equal(cls.labelled, 2);
  assert.equal(cls.windowSize, 2);
  assert.equal(cls.regression, null);
  close(cls.classification!.accuracy, 0.5, 'accuracy over the window');
  assert.deepEqual(cls.labelDelayMs, { p50: 10, max: 30 });
  const reg = liveQuality('diabetes', 1, 10, [
    { predicted: 10, actual: 12, delayMs: 1 },
    { predicted: null, actual: 50, delayMs: 1 },
  ]);
  assert.equal(reg.labelled, 2);
  assert.equal(reg.classification, null);
  assert.deepEqual(reg.regression, { mae: 2, rmse: 2 });
});

test('LiveQualityTracker: quality() per version, replace drops versions without labels, gauges per version', async () => {
  const registry = new client.Registry();
  const tracker = new LiveQualityTracker(registry, 500);
  const seen: string[] = [];
  tracker.onChange((q) => seen.push(`${q.model}/${q.version}`));
  const v1 = liveQuality('iris', 1, 500, [{ predicted: 'A', actual: 'A', delayMs: 2000 }]);
  const v2 = liveQuality('iris', 2, 500, [{ predicted: 'A', actual: 'B', delayMs: 4000 }]);
  tracker.update([v1, v2], false);
  assert.equal(tracker.quality('iris', 1)?.classification?.accuracy, 1);
  assert.equal(tracker.quality('iris', 3), null);
  const text = await registry.metrics();
  assert.match(text, /mlops_live_accuracy\{model="iris",version="1"\} 1/);
  assert.match(text, /mlops_live_accuracy\{model="iris",version="2"\} 0/);
  assert.match(text, /mlops_live_recall\{model="iris",version="2",class="B"\} 0/);
  assert.match(text, /mlops_live_label_delay_median_seconds\{model="iris",version="2"\} 4/);
  tracker.update([v2], true);
  assert.equal(tracker.quality('iris', 1), null);
  assert.doesNotMatch(await registry.metrics(), /mlops_live_accuracy\{model="iris",version="1"\}/);
  assert.deepEqual(seen, ['iris/1', 'iris/2', 'iris/2']);
});
