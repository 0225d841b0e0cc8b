/** A seeded PRNG (mulberry32): the trainers draw every random choice from one, so a seed fixes the model. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Puts k distinct values of `pool` (drawn without replacement) in its first k slots. */
  sampleInPlace(pool: Int32Array, k: number): void {
    for (let i = 0; i < k; i++) {
      const j = i + this.below(pool.length - i);
      const t = pool[i];
      pool[i] = pool[j];
      pool[j] = t;
    }
  }
}
