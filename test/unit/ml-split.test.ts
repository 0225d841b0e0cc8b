import { test } from 'node:test';
import assert from 'node:assert/strict';

import { randomSplit, stratifiedSplit } from '../../pipeline/ml/split';

// 40 rows of class 0, 10 of class 1, 2 of class 2, 1 of class 3, interleaved: 7 and 53 are coprime,
// so i·7 mod 53 visits every grouped index once.
const grouped = [...new Array<number>(40).fill(0), ...new Array<number>(10).fill(1), 2, 2, 3];
const y = grouped.map((_, i) => grouped[(i * 7) % grouped.length]);

function countByClass(rows: number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const row of rows) counts.set(y[row], (counts.get(y[row]) ?? 0) + 1);
  return counts;
}

test('the fixture mixes classes', () => {
  assert.equal(y.length, 53);
  assert.deepEqual([...countByClass(y.map((_, i) => i))].sort(), [
    [0, 40],
    [1, 10],
    [2, 2],
    [3, 1],
  ]);
});

test('each class keeps its share in test; small classes get one test row, a singleton stays in train', () => {
  const { train, test: testRows } = stratifiedSplit(y, 0.2, 42);
  const inTest = countByClass(testRows);
  assert.equal(inTest.get(0), 8);
  assert.equal(inTest.get(1), 2);
  assert.equal(inTest.get(2), 1);
  assert.equal(inTest.get(3), undefined);
  assert.equal(countByClass(train).get(3), 1);
});

test('train and test partition the rows, each ascending', () => {
  const { train, test: testRows } = stratifiedSplit(y, 0.3, 1);
  assert.deepEqual(
    [...train, ...testRows].sort((a, b) => a - b),
    y.map((_, i) => i),
  );
  assert.deepEqual(
    train,
    [...train].sort((a, b) => a - b),
  );
  assert.deepEqual(
    testRows,
    [...testRows].sort((a, b) => a - b),
  );
});

test('the same seed gives the same split, another seed a different one', () => {
  assert.deepEqual(stratifiedSplit(y, 0.2, 7), stratifiedSplit(y, 0.2, 7));
  assert.notDeepEqual(stratifiedSplit(y, 0.2, 7).test, stratifiedSplit(y, 0.2, 8).test);
});

test('a large test share still leaves every class with ≥ 2 rows at least one training row', () => {
  const { train } = stratifiedSplit(y, 0.99, 3);
  const inTrain = countByClass(train);
  for (const label of [0, 1, 2, 3]) assert.ok((inTrain.get(label) ?? 0) >= 1, `class ${label}`);
});

test('testSize outside (0, 1) is rejected', () => {
  for (const bad of [0, 1, -0.2, 1.5, Number.NaN]) {
    assert.throws(() => stratifiedSplit(y, bad, 1), /testSize must be between 0 and 1/);
  }
});

test('a random split (regression) is seeded, disjoint and covers every row', () => {
  const a = randomSplit(50, 0.2, 7);
  assert.deepEqual(randomSplit(50, 0.2, 7), a, 'same seed, same split');
  assert.notDeepEqual(randomSplit(50, 0.2, 8), a, 'another seed, another split');
  assert.equal(a.test.length, 10);
  assert.deepEqual(
    [...a.train, ...a.test].sort((x, y) => x - y),
    Array.from({ length: 50 }, (_, i) => i),
  );
});
