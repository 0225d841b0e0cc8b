/**
 * JSON text of a float32 value: the shortest decimal that reads back as the same float32 (151.2, not
 * 151.1999969482422), which is what the model computed. Non-finite values have no JSON form: null.
 */
export function float32Json(x: number): string {
  if (!Number.isFinite(x)) return 'null';
  if (x === 0) return '0';
  for (let p = 6; p < 9; p++) {
    const v = Number(x.toPrecision(p));
    if (Math.fround(v) === x) return String(v);
  }
  return String(Number(x.toPrecision(9))); // 9 significant digits always identify a float32
}
