import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { DriftSnapshot, LiveQuality, ModelVersion, ServingInfo } from '../../common/contract';
import { escapeText } from '../../common/markdown';
import {
  CARD_SECTIONS,
  ETHICS_QUESTIONS,
  LIVE_MARKER,
  MIN_GAP_ROWS,
  renderCard,
  writeModelCard,
  type CardEvidence,
  type PipelineCard,
} from '../../common/model-card';
import { withLiveSection } from '../../common/model-card-live';
import { groupReports, MISSING_GROUP } from '../../pipeline/card/groups';
import { checkPipelineCard } from '../../pipeline/card/write';
import type { Column } from '../../pipeline/ml/table';

const version = (over: Partial<ModelVersion> = {}): ModelVersion => ({
  model: 'birds',
  version: 3,
  path: '/data/models/birds/3/model.onnx',
  sha256: 'ab'.repeat(32),
  signature: {
    schema: 2,
    task: 'classification',
    inputs: [{ name: 'input', type: 'string', width: 2, rank: 2 }],
    features: [
      { name: 'island', type: 'string', input: 'input', column: 0, categories: ['A', 'B'] },
      { name: 'size', type: 'float32', input: 'input', column: 1, min: 0.10000000149011612, max: 12 },
    ],
    target: 'kind',
    labelOutput: 'label',
    labelKind: 'index',
    probabilitiesOutput: null,
    classLabels: ['gull', 'tern'],
  },
  metrics: { accuracy: 0.875, test_rows: 8 },
  params: { seed: 42, trainer: 'auto', tags: ['a|b'] },
  lineage: {
    runId: 'run-1',
    pipeline: 'birds',
    git: { commit: 'c0ffee'.repeat(7), branch: 'main', dirty: false },
    dataFiles: [{ path: '/data/birds.csv', sha256: 'cd'.repeat(32) }],
  },
  reference: { rows: 32, features: [], classShares: [0.25, 0.75] },
  createdAt: '2026-12-02T06:00:00.000Z',
  aliases: ['latest'],
  ...over,
});

// Fourteen test rows: island A has 6, all right; island B has 6, 2 right (its terns mistaken for gulls 3 times in 5,
// its gull mistaken once); 2 rows miss the island, both wrong: too few rows to count in the gap.
const island: Column = {
  name: 'island',
  type: 'string',
  values: ['A', 'A', 'A', 'A', 'A', 'A', 'B', 'B', 'B', 'B', 'B', 'B', null, null],
  missing: 2,
};
const size: Column = { name: 'size', type: 'number', values: island.values.map((_, i) => i), missing: 0 };
const truth = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1];
const predicted = [0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0];

test('group gaps: accuracy and mean recall per value of each categorical feature, largest gap between best and worst', () => {
  const reports = groupReports({ task: 'classification', columns: [island, size], truth, predicted });
  assert.equal(reports.length, 1, 'number columns are not grouped');
  const [r] = reports;
  assert.equal(r.feature, 'island');
  assert.deepEqual(
    r.slices.map((s) => [s.value, s.rows, s.accuracy]),
    [
      [MISSING_GROUP, 2, 0],
      ['A', 6, 1],
      ['B', 6, 2 / 6],
    ],
  );
  // A: recall of gull 1, of tern 1 → 1; B: terns 2 of 5 found, its gull missed → (0.4 + 0) / 2.
  assert.deepEqual(
    r.slices.map((s) => s.recall),
    [0, 1, 0.2],
  );
  assert.ok(MIN_GAP_ROWS > 2 && MIN_GAP_ROWS <= 6, 'the fixture straddles the threshold');
  assert.deepEqual(r.gap, { metric: 'accuracy', value: 1 - 2 / 6, best: 'A', worst: 'B' }, 'the 2 rows without island do not count');
});

test('group gaps for regression: MAE per group; the worst group is the one with the largest error', () => {
  const sex: Column = { name: 'sex', type: 'boolean', values: [...Array(5).fill(true), ...Array(5).fill(false)], missing: 0 };
  const truth10 = [10, 20, 30, 40, 50, 10, 20, 30, 40, 50];
  const [r] = groupReports({
    task: 'regression',
    columns: [sex],
    truth: truth10,
    predicted: truth10.map((t, i) => (i < 5 ? t + 1 : t - 4)),
  });
  assert.deepEqual(
    r.slices.map((s) => [s.value, s.rows, s.mae]),
    [
      ['false', 5, 4],
      ['true', 5, 1],
    ],
  );
  assert.deepEqual(r.gap, { metric: 'mae', value: 3, best: 'true', worst: 'false' });
  const single = groupReports({ task: 'regression', columns: [{ ...sex, values: [true, true] }], truth: [1, 2], predicted: [1, 2] });
  assert.equal(single[0].gap, null, 'one group has no gap');
});

const meta: PipelineCard = {
  intendedUse: 'Tell gulls from terns.',
  limitations: ['Only two species.'],
  groups: ['island', 'colour'],
  ethics: { consent: 'No personal data.', misuse: '  ' },
};
const evidence = (): CardEvidence => ({
  gate: {
    checks: [
      { name: 'accuracy', value: 0.875, ok: true, rule: '>= 0.8' },
      { name: 'recall_gap', value: 0.1, ok: true, rule: '<= 0.25' },
    ],
    enforced: true,
  },
  groups: groupReports({ task: 'classification', columns: [island, size], truth, predicted }),
  artifacts: ['dataset.json', 'model.onnx'],
});

test('the card has every section, the data, metrics, gate and group gap with the largest gap highlighted', () => {
  const card = renderCard({ version: version(), meta, evidence: evidence() });
  const headings = card.split('\n').filter((l) => l.startsWith('#'));
  assert.deepEqual(headings, [
    '# Model card: birds version 3',
    '## Intended use',
    '## Limitations',
    '## Data',
    '## Signature',
    '## Metrics',
    '## Group gaps',
    '### island',
    '## Quality gate',
    '## Training params',
    '## Ethical review',
    '## Live quality and drift',
  ]);
  assert.deepEqual(
    headings.filter((h) => h.startsWith('## ')),
    CARD_SECTIONS.map((name) => `## ${name}`),
  );
  assert.match(card, /\| \/data\/birds\.csv \| `c{0}d{0}(cd){32}` \|/);
  assert.match(card, /Training rows: 32; evaluation rows: 8\./);
  assert.match(card, /\| gull \| 25\.0% \|\n\| tern \| 75\.0% \|/);
  assert.match(card, /\| accuracy \| 0\.8750 \|/);
  assert.match(card, /\| \*\*A\*\* \| 6 \| 1 \| 1 \|/, 'the best group is bold');
  assert.match(card, /\| \*\*B\*\* \| 6 \| 0\.3333 \| 0\.2000 \|/, 'the worst group is bold');
  assert.match(card, /\| \(missing\) \| 2 \| 0 \| 0 \|/);
  assert.match(card, /\*\*Largest gap: accuracy 0\.6667\*\* between A \(best\) and B \(worst\)/);
  assert.match(card, /- colour: not a categorical feature of this model/, 'a named group that is not a feature is accounted for');
  assert.match(card, /Passed: every check held \(2\)\./);
  assert.match(card, /\| recall\\_gap \| 0\.1000 \| &lt;= 0\.25 \| pass \|/);
  assert.match(card, /Run artifacts: dataset\.json, model\.onnx\./);
  assert.match(card, /ONNX inputs: input string \[N, 2\]\./);
  assert.match(card, /\| island \| string \| input\[0\] \| A, B \|\n\| size \| float32 \| input\[1\] \| 0\.1 … 12 \|/);
  assert.match(card, /Predicts kind: one of gull, tern\./);
  assert.match(card, /\| seed \| 42 \|\n\| tags \| \\\["a\\\|b"\\\] \|\n\| trainer \| auto \|/, 'params, escaped');
  assert.ok(card.includes(LIVE_MARKER));
});

test('the ethics checklist: answered questions checked with their answer, the others (blank included) unchecked', () => {
  const card = renderCard({ version: version(), meta, evidence: evidence() });
  const items = card.split('\n').filter((l) => /^- \[[ x]\]/.test(l));
  assert.equal(items.length, Object.keys(ETHICS_QUESTIONS).length);
  assert.equal(items.filter((l) => l.startsWith('- [x]')).length, 1);
  assert.ok(items[0].startsWith('- [x] Was the data collected with consent'));
  assert.match(card, /- \[x\] Was the data.*\n {2}No personal data\./);
  assert.match(card, /- \[ \] How could the model be misused.*\n {2}_Not answered\._/);
  assert.match(card, /1 of 6 questions answered/);
  const none = renderCard({ version: version(), meta: null, evidence: {} });
  assert.equal(none.split('\n').filter((l) => l.startsWith('- [ ]')).length, 6);
  assert.match(none, /## Intended use\n\n_Not stated/);
  assert.match(none, /_No gate results recorded for this version\._/);
  assert.match(none, /_No group reports/);
});

test('an import without --gate shows its checks as not enforced, with the failing one', () => {
  const lineage = { ...version().lineage, runId: null, pipeline: null, imported: { file: '/m/model.onnx', sha256: 'x', by: 'cli' } };
  const checks = [{ name: 'accuracy', value: 0.5, ok: false, rule: '>= 0.9' }];
  const card = renderCard({ version: version({ lineage }), meta: null, evidence: { gate: { checks, enforced: false } } });
  assert.match(card, /imported from \/m\/model\.onnx by cli/);
  assert.match(card, /Not enforced at registration .*: some checks fail\./);
  assert.match(card, /\| accuracy \| 0\.5000 \| &gt;= 0\.9 \| \*\*FAIL\*\* \|/);
});

test('user text and data values cannot inject HTML, links or table cells into the card', () => {
  const evil = '<img src=x onerror=alert(1)> [click](javascript:alert(1)) ![i](http://x/i.png) a|b `code` <script>';
  const hostile: Column = { name: 'island', type: 'string', values: [evil, 'A'], missing: 0 };
  const card = renderCard({
    version: version({ lineage: { ...version().lineage, dataFiles: [{ path: `/d/${evil}.csv`, sha256: 'ee' }] } }),
    meta: { intendedUse: `# heading\n\n${evil}`, limitations: [evil, '1. a list?'], ethics: { consent: `- ${evil}` } },
    evidence: { groups: groupReports({ task: 'classification', columns: [hostile], truth: [0, 0], predicted: [0, 1] }) },
  });
  assert.ok(!/<img|<script/i.test(card), 'no raw tag');
  assert.ok(!/[^\\]\]\(/.test(card), 'no link or image syntax');
  assert.ok(!/[^\\]\|b/.test(card), 'a | in a value does not open a table cell');
  assert.ok(!/^# heading/m.test(card), 'author text cannot open a heading');
  assert.match(card, /^- 1\\\. a list\?$/m, 'nor a nested list');
  assert.match(card, /^ {2}\\- &lt;img/m, 'an answer stays the text of its item');
  assert.equal(escapeText('1. item\n- item'), '1\\. item\n\\- item', 'nor a list');
  assert.equal(escapeText('a\nb', true), 'a b');
  assert.equal(escapeText('0.1', true), '0.1', 'a table cell cannot open a list: a number stays as it is');
});

const serving = (over: Partial<ServingInfo> = {}): ServingInfo => ({
  model: 'birds',
  version: 3,
  sha256: 'ab',
  selector: 'production',
  aliases: ['production'],
  loadedAt: '2026-12-02T06:01:00.000Z',
  signature: version().signature,
  metrics: {},
  ...over,
});
const drift: DriftSnapshot = {
  windowRows: 40,
  windowSize: 1000,
  features: [
    { name: 'size', kind: 'numeric', psi: 0.31, ks: 0.4, mean: 5.5 },
    { name: 'island', kind: 'categorical', psi: 0.02, unseenShare: 0.1, shares: [0.5, 0.4], categories: ['A', 'B'] },
  ],
  classes: { labels: ['gull', 'tern'], shares: [0.6, 0.4], psi: 0.5, jensenShannon: 0.2 },
  targets: null,
};
const quality: LiveQuality = {
  model: 'birds',
  version: 3,
  labelled: 25,
  windowSize: 500,
  classification: { accuracy: 0.8, macroF1: 0.75, recall: { gull: 0.9, tern: 0.6 } },
  regression: null,
  labelDelayMs: { p50: 1200, max: 5000 },
};

test('the live section replaces the marker: drift of the served version (worst feature bold) and live quality', () => {
  const stored = renderCard({ version: version(), meta, evidence: evidence() });
  const live = withLiveSection(stored, { model: 'birds', version: 3, serving: serving(), drift, quality, at: '2026-12-02T07:00:00.000Z' });
  assert.ok(!live.includes(LIVE_MARKER));
  assert.ok(live.startsWith(stored.slice(0, stored.indexOf(LIVE_MARKER))), 'the stored sections are kept as they are');
  const section = live.slice(live.indexOf('## Live quality and drift'));
  assert.match(section, /Served by this server since 2026-12-02T06:01:00\.000Z \(as production\)/);
  assert.match(section, /Drift window: 40 of 1000 rows\./);
  assert.match(section, /\| \*\*size\*\* \| numeric \| 0\.3100 \| 0\.4000 \| 5\.5000 \|/);
  assert.match(section, /\| island \| categorical \| 0\.0200 \| – \| 10\.0% \|/);
  assert.match(section, /Predicted classes: PSI 0\.5000, Jensen–Shannon 0\.2000; shares gull 60\.0%, tern 40\.0%\./);
  assert.match(section, /Live quality over 25 labelled predictions \(window 500\); label delay p50 1200 ms, max 5000 ms:/);
  assert.match(section, /accuracy 0\.8000, macro F1 0\.7500; recall gull 0\.9000, tern 0\.6000\./);
});

test('the live section of a version not served says so, and says when there is no feedback', () => {
  const live = withLiveSection('# old card without a marker\n', {
    model: 'birds',
    version: 2,
    serving: serving(),
    drift: null,
    quality: null,
    at: '2026-12-02T07:00:00.000Z',
  });
  assert.match(live, /^# old card without a marker\n\n## Live quality and drift\n/);
  assert.match(live, /Not served by this server now \(it serves birds version 3\): no drift data for this version\./);
  assert.match(live, /no ground-truth feedback for this version/);
});

test('writeModelCard writes card.md beside model.onnx and leaves no temporary file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'card-'));
  try {
    const v = version({ path: path.join(dir, 'model.onnx') });
    assert.equal(writeModelCard(v, 'one\n'), path.join(dir, 'card.md'));
    writeModelCard(v, 'two\n');
    assert.equal(fs.readFileSync(path.join(dir, 'card.md'), 'utf8'), 'two\n');
    assert.deepEqual(fs.readdirSync(dir), ['card.md']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a pipeline's card is checked: each mistake named", () => {
  assert.equal(checkPipelineCard('p.ts', undefined), null);
  assert.deepEqual(checkPipelineCard('p.ts', meta), meta);
  const message = (card: unknown) => {
    try {
      checkPipelineCard('p.ts', card);
      return 'accepted';
    } catch (err) {
      return (err as Error).message;
    }
  };
  assert.equal(message([]), 'pipeline p.ts: card: must be an object');
  assert.match(message({ intendedUse: 'x', owner: 'me' }), /card: unknown field 'owner'/);
  assert.match(message({ groups: 'island' }), /card: groups must be a list of feature names/);
  assert.match(message({ limitations: [1] }), /card: limitations must be a string or a list of strings/);
  assert.match(message({ ethics: { privacy: 'no' } }), /card: ethics: unknown question 'privacy' \(known: consent, /);
  assert.match(message({ ethics: { consent: true } }), /card: ethics\.consent must be a string/);
});
