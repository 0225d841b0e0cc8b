// The model card: one Markdown page per version (docs/model-cards.md). Its static part is rendered
// once, at registration, from what the registration knows (data, metrics, group gaps, the gate, the
// pipeline's `card` metadata) and stored as card.md beside model.onnx; the version row stays
// immutable, the card is a derived file. Its live part (drift, live quality) is rendered by the
// server on each request, in place of the LIVE_MARKER line (model-card-live.ts). Pure functions except
// writeModelCard. Every text that comes from a user or a data file goes through common/markdown.ts:
// the card is shown in a Markdown preview, where raw HTML or a crafted link must not get through.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FeatureSpec, ModelSignature, ModelVersion, NumericDistribution } from './contract';
import { cell, escapeText, line, num, pct, prose, table } from './markdown';

/** The ethical review questions of the original template, as a checklist the pipeline author answers. */
export const ETHICS_QUESTIONS = {
  consent: 'Was the data collected with consent, and does it hold personal data (which fields, how protected)?',
  representativeness: 'Does the data represent the people or things the model will be used on (who is missing)?',
  harmedGroups: 'Which groups could be harmed by its errors, and are their error rates checked (the group gaps)?',
  misuse: 'How could the model be misused, or used outside its intended use, and what prevents it?',
  humanOversight: 'Which decisions does a person review, and how can a wrong prediction be appealed or corrected?',
  retention: 'How long are the data, the prediction log and the feedback kept, and who may read them?',
} as const;
export type EthicsQuestion = keyof typeof ETHICS_QUESTIONS;

/** What a pipeline says about its model (definePipeline's `card`); every field optional. */
export interface PipelineCard {
  /** What the model is for, and for whom. */
  intendedUse?: string;
  /** Where it must not be trusted: one string, or one per item. */
  limitations?: string | string[];
  /** Categorical features to slice the evaluation rows by for group gaps; default: every categorical feature. */
  groups?: string[];
  /** Answers to ETHICS_QUESTIONS; a question left out is shown unchecked. */
  ethics?: Partial<Record<EthicsQuestion, string>>;
}

/** One threshold check of a quality gate (pipeline/steps/gate.ts writes them to gate.json). */
export interface CardCheck {
  name: string;
  value: number;
  ok: boolean;
  rule: string;
}

/** The test split's quality within one value of a feature. */
export interface GroupSlice {
  value: string;
  rows: number;
  /** Classification: accuracy, and the mean recall over the classes present in the slice. */
  accuracy?: number;
  recall?: number;
  /** Regression: mean absolute error. */
  mae?: number;
}

/** Quality per value of one feature, and the largest gap between two values. */
export interface GroupReport {
  feature: string;
  slices: GroupSlice[];
  /** Best minus worst on the task's main metric (accuracy or MAE) over slices with enough rows; null with fewer than two. */
  gap: { metric: 'accuracy' | 'mae'; value: number; best: string; worst: string } | null;
}

/** What a registration knows beyond the version row. */
export interface CardEvidence {
  gate?: { checks: CardCheck[]; enforced: boolean } | null;
  /** Group reports of the categorical features (pipeline/card/groups.ts). */
  groups?: GroupReport[];
  /** Why there are no group reports, when there are none. */
  groupsNote?: string;
  /** The run's artifacts, relative to its artifacts folder. */
  artifacts?: string[];
}

export interface CardInputs {
  version: ModelVersion;
  meta: PipelineCard | null;
  evidence: CardEvidence;
}

/** The card's sections (its ## headings), in order. */
export const CARD_SECTIONS = [
  'Intended use',
  'Limitations',
  'Data',
  'Signature',
  'Metrics',
  'Group gaps',
  'Quality gate',
  'Training params',
  'Ethical review',
  'Live quality and drift',
] as const;

/** The line the server replaces with the live section. */
export const LIVE_MARKER = '<!-- mlops:live -->';
export const CARD_FILE = 'card.md';
/** Fewest rows a group needs to count in a gap (pipeline/card/groups.ts): a group of two rows is right or wrong by chance. */
export const MIN_GAP_ROWS = 5;

function header(v: ModelVersion): string {
  const l = v.lineage;
  const from = l.imported
    ? `imported from ${cell(l.imported.file)} by ${cell(l.imported.by)}`
    : `trained by pipeline ${cell(l.pipeline ?? 'unknown')}, run ${cell(l.runId ?? 'unknown')}`;
  const git = l.git.commit ? `, git ${l.git.commit.slice(0, 12)}${l.git.dirty ? ' (uncommitted changes)' : ''}` : '';
  return [
    `# Model card: ${cell(v.model)} version ${v.version}`,
    '',
    `Registered ${v.createdAt}, ${from}${git}. Task: ${v.signature.task}. Model file sha256 \`${v.sha256}\`.`,
  ].join('\n');
}

function useSection(meta: PipelineCard | null): string {
  const notStated = '_Not stated: add `card: { intendedUse, limitations }` to the pipeline’s definePipeline._';
  const limits = meta?.limitations === undefined ? [] : Array.isArray(meta.limitations) ? meta.limitations : [meta.limitations];
  return [
    '## Intended use',
    '',
    meta?.intendedUse ? prose(meta.intendedUse) : notStated,
    '',
    '## Limitations',
    '',
    limits.length > 0 ? limits.map((l) => `- ${line(l)}`).join('\n') : notStated,
  ].join('\n');
}

function distribution(name: string, d: NumericDistribution): string[] {
  return [cell(name), num(d.mean), num(d.std), num(d.min), num(d.quantiles[4]), num(d.max)];
}

/** A feature's training values: its categories (the first 20) or its range. */
function trainingValues(f: FeatureSpec): string {
  if (f.categories) return f.categories.slice(0, 20).map(cell).join(', ') + (f.categories.length > 20 ? ` … (${f.categories.length})` : '');
  // Ranges as the data wrote them (4.3, not 4.3000): 6 significant digits drop float32's noise.
  const short = (v: number) => String(Number(v.toPrecision(6)));
  return f.min !== undefined && f.max !== undefined ? `${short(f.min)} … ${short(f.max)}` : '–';
}

function signatureSection(s: ModelSignature): string {
  const inputs = s.inputs.map((i) => `${cell(i.name)} ${i.type} ${i.rank === 1 ? '[N]' : `[N, ${i.width}]`}`).join('; ');
  const rows = s.features.map((f) => [
    cell(f.name),
    `${f.type}${f.nullable ? ' (nullable)' : ''}`,
    `${cell(f.input)}[${f.column}]`,
    trainingValues(f),
  ]);
  const predicts =
    s.task === 'classification'
      ? `Predicts ${cell(s.target)}: one of ${s.classLabels.map(cell).join(', ')}.`
      : `Predicts ${s.targets.map(cell).join(', ')} (regression).`;
  return [
    '## Signature',
    '',
    `ONNX inputs: ${inputs}.`,
    '',
    table(['feature', 'type', 'ONNX input', 'training values'], rows),
    '',
    predicts,
  ].join('\n');
}

function paramsSection(params: Record<string, unknown>): string {
  const entries = Object.entries(params).sort(([a], [b]) => a.localeCompare(b));
  const value = (x: unknown) => cell(typeof x === 'string' ? x : (JSON.stringify(x) ?? String(x)));
  return [
    '## Training params',
    '',
    entries.length > 0
      ? table(
          ['param', 'value'],
          entries.map(([k, x]) => [cell(k), value(x)]),
        )
      : '_None._',
  ].join('\n');
}

function dataSection(v: ModelVersion, artifacts: string[]): string {
  const out = ['## Data', ''];
  const files = v.lineage.dataFiles;
  out.push(
    files.length > 0
      ? table(
          ['file', 'sha256'],
          files.map((f) => [cell(f.path), `\`${cell(f.sha256)}\``]),
        )
      : '_No data file recorded._',
  );
  const test = v.metrics.test_rows ?? v.metrics.rows;
  out.push('', `Training rows: ${v.reference.rows}${test !== undefined ? `; evaluation rows: ${test}` : ''}.`);
  const s = v.signature;
  if (s.task === 'classification' && v.reference.classShares) {
    const shares = v.reference.classShares;
    out.push('', 'Class distribution (training rows):', '');
    out.push(
      table(
        ['class', 'share'],
        s.classLabels.map((label, i) => [cell(label), pct(shares[i] ?? 0)]),
      ),
    );
  } else if (s.task === 'regression' && v.reference.targets) {
    const targets = v.reference.targets;
    out.push('', 'Target distribution (training rows):', '');
    out.push(
      table(
        ['target', 'mean', 'std', 'min', 'median', 'max'],
        s.targets.map((t, i) => distribution(t, targets[i])),
      ),
    );
  }
  if (artifacts.length > 0) out.push('', `Run artifacts: ${artifacts.map(cell).join(', ')}.`);
  return out.join('\n');
}

/** The reports to show: those the pipeline names (each accounted for), else all of them. */
function chosenGroups(meta: PipelineCard | null, e: CardEvidence): { reports: GroupReport[]; notes: string[] } {
  const all = e.groups ?? [];
  if (!meta?.groups || meta.groups.length === 0) return { reports: all, notes: [] };
  const reports: GroupReport[] = [];
  const notes: string[] = [];
  for (const name of meta.groups) {
    const report = all.find((g) => g.feature === name);
    if (report) reports.push(report);
    else notes.push(`${cell(name)}: not a categorical feature of this model, so no group report.`);
  }
  return { reports, notes };
}

const GAP_METRIC = { accuracy: 'accuracy', mae: 'MAE' } as const;

function groupTable(g: GroupReport): string {
  const regression = g.slices.some((s) => s.mae !== undefined);
  const highlighted = (value: string, text: string) => (g.gap && (value === g.gap.best || value === g.gap.worst) ? `**${text}**` : text);
  const rows = g.slices.map((s) => {
    const values = regression ? [num(s.mae)] : [num(s.accuracy), num(s.recall)];
    return [highlighted(s.value, cell(s.value)), String(s.rows), ...values];
  });
  const lines = [`### ${cell(g.feature)}`, '', table(['value', 'rows', ...(regression ? ['MAE'] : ['accuracy', 'mean recall'])], rows)];
  if (g.gap) {
    const { metric, value, best, worst } = g.gap;
    lines.push('', `**Largest gap: ${GAP_METRIC[metric]} ${num(value)}** between ${cell(best)} (best) and ${cell(worst)} (worst).`);
  } else {
    lines.push('', '_No gap: fewer than two groups with enough rows._');
  }
  return lines.join('\n');
}

function metricsSection(v: ModelVersion, meta: PipelineCard | null, e: CardEvidence): string {
  const entries = Object.entries(v.metrics).sort(([a], [b]) => a.localeCompare(b));
  const out = [
    '## Metrics',
    '',
    entries.length > 0
      ? table(
          ['metric', 'value'],
          entries.map(([k, x]) => [cell(k), num(x)]),
        )
      : '_None._',
  ];
  out.push('', '## Group gaps', '');
  const { reports, notes } = chosenGroups(meta, e);
  const what = v.signature.task === 'classification' ? 'accuracy and mean recall per group' : 'mean absolute error (MAE) per group';
  const intro = `Evaluation rows (the test split; for an import, its CSV): ${what}; each feature's largest gap in bold`;
  if (reports.length > 0) out.push(`${intro} (groups of ${MIN_GAP_ROWS} rows or more).`, '', ...reports.map(groupTable));
  else out.push(`_${cell(e.groupsNote ?? 'No group reports: the registration had no categorical feature to slice the test split by.')}_`);
  if (notes.length > 0) out.push('', ...notes.map((n) => `- ${n}`));
  return out.join('\n\n').replace(/\n{3,}/g, '\n\n');
}

function gateSection(e: CardEvidence): string {
  const gate = e.gate;
  if (!gate || gate.checks.length === 0) return '## Quality gate\n\n_No gate results recorded for this version._';
  const passed = gate.checks.every((c) => c.ok);
  const verdict = gate.enforced
    ? `Passed: every check held (${gate.checks.length}).`
    : `Not enforced at registration (import without --gate): ${passed ? 'every check would have passed' : 'some checks fail'}.`;
  const rows = gate.checks.map((c) => [cell(c.name), num(c.value), cell(c.rule), c.ok ? 'pass' : '**FAIL**']);
  return ['## Quality gate', '', verdict, '', table(['check', 'value', 'rule', 'result'], rows)].join('\n');
}

function ethicsSection(meta: PipelineCard | null): string {
  const answers = meta?.ethics ?? {};
  const items = (Object.keys(ETHICS_QUESTIONS) as EthicsQuestion[]).map((key) => {
    const answer = answers[key]?.trim();
    return answer
      ? `- [x] ${escapeText(ETHICS_QUESTIONS[key])}  \n  ${line(answer)}`
      : `- [ ] ${escapeText(ETHICS_QUESTIONS[key])}  \n  _Not answered._`;
  });
  const answered = items.filter((i) => i.startsWith('- [x]')).length;
  const summary = `${answered} of ${items.length} questions answered by the pipeline’s author.`;
  return ['## Ethical review', '', summary, '', ...items].join('\n');
}

/** The stored card: every section, and the live section's marker. */
export function renderCard(inputs: CardInputs): string {
  const { version, meta, evidence } = inputs;
  return (
    [
      header(version),
      useSection(meta),
      dataSection(version, evidence.artifacts ?? []),
      signatureSection(version.signature),
      metricsSection(version, meta, evidence),
      gateSection(evidence),
      paramsSection(version.params),
      ethicsSection(meta),
      '## Live quality and drift',
      `${LIVE_MARKER}\n_Rendered on request by the server (GET /api/models/${version.model}/versions/${version.version}/card)._`,
    ].join('\n\n') + '\n'
  );
}

/** card.md of a version: beside its model.onnx. */
export function cardPath(version: Pick<ModelVersion, 'path'>): string {
  return path.join(path.dirname(version.path), CARD_FILE);
}

/** Writes card.md atomically: a private temporary file, fsynced, renamed over the card. */
export function writeModelCard(version: ModelVersion, markdown: string): string {
  const target = cardPath(version);
  const tmp = `${target}.${crypto.randomUUID()}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'wx', 0o644);
    try {
      fs.writeSync(fd, markdown);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return target;
}
