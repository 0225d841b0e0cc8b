/** mulberry32: a tiny seeded PRNG returning floats in [0, 1) (the splits, and the tests' generated tables). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * Row indexes (ascending) of a train/test split that keeps each class's share: every class puts
 * round(testSize · count) rows in test, at least one and never all of them when it has ≥ 2 rows
 * (a single-row class stays in train). Same y, testSize and seed → same split.
 */
export function stratifiedSplit(y: number[], testSize: number, seed: number): { train: number[]; test: number[] } {
  if (!(testSize > 0 && testSize < 1)) throw new Error(`testSize must be between 0 and 1 (exclusive), got ${testSize}`);
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);

  const rowsByClass = new Map<number, number[]>();
  y.forEach((label, row) => {
    const rows = rowsByClass.get(label);
    if (rows) rows.push(row);
    else rowsByClass.set(label, [row]);
  });

  const random = mulberry32(seed);
  const train: number[] = [];
  const test: number[] = [];
  // Classes in ascending order so the PRNG stream does not depend on which class appears first.
  for (const [, classRows] of [...rowsByClass].sort(([a], [b]) => a - b)) {
    const rows = shuffle(classRows, random);
    const nTest = rows.length < 2 ? 0 : Math.min(rows.length - 1, Math.max(1, Math.round(testSize * rows.length)));
    test.push(...rows.slice(0, nTest));
    train.push(...rows.slice(nTest));
  }
  const ascending = (a: number, b: number) => a - b;
  return { train: train.sort(ascending), test: test.sort(ascending) };
}

/** Row indexes (ascending) of a seeded random train/test split, for targets without classes (regression). */
export function randomSplit(rows: number, testSize: number, seed: number): { train: number[]; test: number[] } {
  return stratifiedSplit(new Array<number>(rows).fill(0), testSize, seed);
}
