import { test } from 'node:test';
import assert from 'node:assert/strict';

import { confusionMatrixSvg } from '../../pipeline/ml/confusion-svg';

/** Throws unless tags nest properly, attributes are quoted and every & starts an XML entity. */
function assertWellFormed(xml: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let end = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    assert.ok(!/[<>]/.test(xml.slice(end, m.index)), `stray markup before offset ${m.index}`);
    end = m.index + m[0].length;
    const [, closing, name, , selfClosing] = m;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else if (!selfClosing) stack.push(name);
  }
  assert.ok(!/[<>]/.test(xml.slice(end)), 'stray markup at the end');
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.ok(!/&(?!(amp|lt|gt|quot|apos);)/.test(xml), 'unescaped &');
}

const confusion = [
  [12, 0, 0],
  [0, 9, 3],
  [0, 1, 11],
];

test('renders a standalone, well-formed SVG with title, labels, axes and counts', () => {
  const svg = confusionMatrixSvg(confusion, ['Setosa', 'Versicolor', 'Virginica'], 'iris test split');
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assertWellFormed(svg);
  for (const text of ['iris test split', 'Setosa', 'Versicolor', 'Virginica', '>true<', '>predicted<']) {
    assert.ok(svg.includes(text), `missing ${text}`);
  }
  const cellCounts = [...svg.matchAll(/dominant-baseline="central" fill="[^"]+">(\d+)<\/text>/g)].map((m) => Number(m[1]));
  assert.deepEqual(cellCounts, confusion.flat());
});

test('cells are shaded by their share of the true-class row', () => {
  const svg = confusionMatrixSvg(
    [
      [3, 1, 0],
      [0, 0, 0],
      [0, 2, 6],
    ],
    ['a', 'b', 'c'],
    't',
  );
  const fills = [...svg.matchAll(/<rect x="[^"]+" y="[^"]+" width="\d+" height="\d+" fill="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(fills.length, 9);
  const darkness = (rgb: string) => 765 - (rgb.match(/\d+/g) ?? []).map(Number).reduce((a, b) => a + b, 0);
  // Counts 3 and 6 are both 75 % of their row, so they share a shade; 25 % is lighter, 0 lighter still.
  assert.equal(fills[0], fills[8]);
  assert.ok(darkness(fills[0]) > darkness(fills[1]));
  assert.ok(darkness(fills[1]) > darkness(fills[2]));
  // An empty row is shaded like a zero cell.
  assert.deepEqual(fills.slice(3, 6), [fills[2], fills[2], fills[2]]);
});

test('labels and title are XML-escaped', () => {
  const svg = confusionMatrixSvg(
    [
      [1, 0],
      [0, 1],
    ],
    ['a<b', 'R&D "x"'],
    "Tom's <model>",
  );
  assertWellFormed(svg);
  assert.ok(svg.includes('a&lt;b'));
  assert.ok(svg.includes('R&amp;D &quot;x&quot;'));
  assert.ok(svg.includes('Tom&apos;s &lt;model&gt;'));
  assert.ok(!svg.includes('a<b'));
});

test('a matrix that does not match its labels is rejected', () => {
  assert.throws(() => confusionMatrixSvg([[1, 0]], ['a', 'b'], 't'), /2×2/);
});
