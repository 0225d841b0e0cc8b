import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StepRecord } from '../../common/contract';
import { parseGraphMessage } from '../../common/webview-messages';
import { layoutSteps, NODE_WIDTH, stepCaption } from '../../media/dag/layout';

const step = (name: string, needs: string[], more: Partial<StepRecord> = {}): StepRecord => ({
  name,
  index: 0,
  status: 'succeeded',
  startedAt: null,
  endedAt: null,
  durationMs: 1234,
  logFile: `/runs/r/${name}.log`,
  error: null,
  kind: 'function',
  needs,
  cachedFrom: null,
  artifacts: [],
  notebook: null,
  ...more,
});

test('the run graph lays a diamond out left to right, with an edge per need', () => {
  const g = layoutSteps([step('etl', []), step('a', ['etl']), step('b', ['etl']), step('join', ['a', 'b', 'missing'])]);
  const at = Object.fromEntries(g.nodes.map((n) => [n.step.name, n]));
  assert.deepEqual(g.edges.map((e) => `${e.from}->${e.to}`).sort(), ['a->join', 'b->join', 'etl->a', 'etl->b']);
  assert.ok(at.a.x > at.etl.x + NODE_WIDTH && at.join.x > at.a.x + NODE_WIDTH, 'ranks from left to right');
  assert.equal(at.a.x, at.b.x, 'parallel steps share a rank');
  assert.notEqual(at.a.y, at.b.y, 'and do not overlap');
  for (const e of g.edges) assert.ok(e.points.length >= 2);
  for (const n of g.nodes) assert.ok(n.x >= 0 && n.y >= 0 && n.x + NODE_WIDTH <= g.width, `${n.step.name} inside the drawing`);
});

test("a node's caption: status and duration, or the run a cached step came from", () => {
  assert.equal(stepCaption(step('s', [])), 'succeeded · 1.23 s');
  assert.equal(stepCaption(step('s', [], { status: 'pending', durationMs: null })), 'pending');
  assert.equal(stepCaption(step('s', [], { status: 'cached', cachedFrom: 'run-7' })), 'cached · from run run-7');
});

test('the extension acts only on well-formed run graph messages', () => {
  assert.deepEqual(parseGraphMessage({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseGraphMessage({ type: 'openLog', step: 'train' }), { type: 'openLog', step: 'train' });
  for (const bad of [
    null,
    'ready',
    { type: 'openLog' },
    { type: 'openLog', step: 42 },
    { type: 'openLog', step: '' },
    { type: 'openLog', step: 'x'.repeat(201) },
    { type: 'openLog', step: 'train', file: '/etc/passwd' },
    { type: 'command', command: 'openDocs' },
  ])
    assert.equal(parseGraphMessage(bad), null, JSON.stringify(bad));
});
