import { test } from 'node:test';
import assert from 'node:assert/strict';

import { predictedVsActualSvg, residualHistogramSvg } from '../../pipeline/ml/regression-svg';

test('predicted vs actual: one point per row, the diagonal, an escaped title', () => {
  const svg = predictedVsActualSvg([1, 2, 3], [1.5, 2, 2.5], 'mass <g> & "size"');
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>\n$/);
  assert.equal(svg.match(/<circle /g)?.length, 3);
  assert.match(svg, /<line [^>]*stroke-dasharray/);
  assert.ok(svg.includes('mass &lt;g&gt; &amp; &quot;size&quot;'));
  assert.ok(!svg.includes('NaN'));
  assert.throws(() => predictedVsActualSvg([1], [1, 2], 't'), /1 actual values but 2 predictions/);
});

test('residual histogram: bars count every row; constant residuals still draw', () => {
  const svg = residualHistogramSvg([0, 0, 0, 0], [-1, 1, 1, 2], 'residuals', 4);
  const counts = [...svg.matchAll(/: (\d+) rows<\/title>/g)].map((m) => Number(m[1]));
  assert.equal(counts.length, 4);
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    4,
  );
  const flat = residualHistogramSvg([1, 2], [1, 2], 'perfect', 3);
  assert.ok(!flat.includes('NaN') && !flat.includes('Infinity'));
});
