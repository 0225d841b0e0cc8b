// The metrics webview's script (bundled by esbuild into media/dist/metrics.js). It only draws what
// the extension posts (see ToWebview in common/contract.ts) and asks for commands by name.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import uPlot from 'uplot';
import type {
  DriftSnapshot,
  LiveQuality,
  LoadTestResult,
  ServerStatus,
  ServingStats,
  ToWebview,
  TrainingReference,
  VersionView,
} from '../../common/contract';
import type { FromWebview, WebviewCommand } from '../../common/webview-messages';
import { featureType, formatMetric, signatureLine } from '../../extension/model-text';
import { driftBars, driftLine, shareCharts, type ShareBars } from './drift-series';
import { qualityCaption, qualityRows } from './live-quality';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): History | undefined;
  setState(state: History): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface History {
  t: number[];
  rps: number[];
  eps: number[];
  p50: number[];
  p95: number[];
  p99: number[];
  classes: Record<string, number[]>;
  lastCounts: Record<string, number>;
}

const vscode = acquireVsCodeApi();
const KEEP = 120;
const history: History = vscode.getState() ?? { t: [], rps: [], eps: [], p50: [], p95: [], p99: [], classes: {}, lastCounts: {} };
const $ = (id: string) => document.getElementById(id)!;
const color = (name: string, fallback: string) =>
  getComputedStyle(document.body).getPropertyValue(`--vscode-charts-${name}`).trim() || fallback;
const PALETTE = () => [
  color('blue', '#3794ff'),
  color('red', '#f14c4c'),
  color('green', '#89d185'),
  color('yellow', '#cca700'),
  color('orange', '#d18616'),
  color('purple', '#b180d7'),
];
const axisStyle = () => {
  const fg = getComputedStyle(document.body).getPropertyValue('--vscode-foreground').trim() || '#ccc';
  const grid = getComputedStyle(document.body).getPropertyValue('--vscode-editorWidget-border').trim() || '#444';
  return { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
};

function lineChart(id: string, names: string[]): uPlot {
  const el = $(id);
  const colors = PALETTE();
  return new uPlot(
    {
      width: Math.max(el.clientWidth, 280),
      height: 180,
      legend: { show: true },
      scales: { x: { time: true } },
      axes: [axisStyle(), axisStyle()],
      series: [{}, ...names.map((label, i) => ({ label, stroke: colors[i % colors.length], width: 2 }))],
    },
    [[], ...names.map(() => [])],
    el,
  );
}

/** The x axis of a bar chart: one tick per named bucket. */
function bucketScale(state: { names: string[] }): Pick<uPlot.Options, 'scales' | 'axes'> {
  return {
    scales: { x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] } },
    axes: [{ ...axisStyle(), splits: () => state.names.map((_, i) => i), values: () => state.names }, axisStyle()],
  };
}

function barChart(id: string, threshold: number): { chart: uPlot; names: string[] } {
  const el = $(id);
  const state = { chart: undefined as unknown as uPlot, names: [] as string[] };
  const colors = PALETTE();
  const buckets = bucketScale(state);
  state.chart = new uPlot(
    {
      width: Math.max(el.clientWidth, 280),
      height: 180,
      legend: { show: false },
      ...buckets,
      scales: { ...buckets.scales, y: { range: (_u, _min, max) => [0, Math.max(max, threshold * 1.5)] } },
      series: [
        {},
        {
          label: 'value',
          stroke: colors[0],
          fill: colors[0] + '88',
          paths: uPlot.paths.bars!({ size: [0.6, 80] }),
          points: { show: false },
        },
        { label: 'threshold', stroke: colors[1], dash: [6, 4], width: 1, points: { show: false } },
      ],
    },
    [[], [], []],
    el,
  );
  return state;
}

const rate = lineChart('chart-rate', ['requests/s', 'errors/s']);
const latency = lineChart('chart-latency', ['p50', 'p95', 'p99']);
let classes: uPlot | null = null;
let classNames: string[] = [];
const psi = barChart('chart-psi', 0.25);
const ks = barChart('chart-ks', 0.2);
let loadtest: uPlot | null = null;

function push(series: number[], value: number): void {
  series.push(value);
  if (series.length > KEEP) series.shift();
}

function onStats(s: ServingStats): void {
  push(history.t, Date.parse(s.at) / 1000);
  push(history.rps, s.requestsPerSecond);
  push(history.eps, s.errorsPerSecond);
  push(history.p50, s.latencyMs.p50);
  push(history.p95, s.latencyMs.p95);
  push(history.p99, s.latencyMs.p99);
  for (const [label, total] of Object.entries(s.predictionsByClass)) {
    const series = (history.classes[label] ??= new Array(history.t.length - 1).fill(0));
    push(series, Math.max(0, total - (history.lastCounts[label] ?? total)));
    history.lastCounts[label] = total;
  }
  for (const series of Object.values(history.classes)) while (series.length > history.t.length) series.shift();
  vscode.setState(history);
  draw();
}

function draw(): void {
  rate.setData([history.t, history.rps, history.eps]);
  latency.setData([history.t, history.p50, history.p95, history.p99]);
  const labels = Object.keys(history.classes).sort();
  if (labels.join() !== classNames.join()) {
    classes?.destroy();
    classNames = labels;
    classes = lineChart('chart-classes', labels);
  }
  classes?.setData([history.t, ...labels.map((l) => history.classes[l])]);
}

/** Training against window shares, two bars per bucket: category shares and regression predictions. */
function shareChart(parent: HTMLElement, bars: ShareBars): { chart: uPlot; caption: HTMLElement; state: { names: string[] } } {
  const figure = document.createElement('figure');
  figure.dataset.key = bars.key;
  const caption = text('p', bars.caption);
  caption.className = 'caption';
  const el = document.createElement('div');
  el.className = 'chart';
  figure.append(text('figcaption', bars.title), caption, el);
  parent.append(figure);
  const state = { names: bars.buckets };
  const colors = PALETTE();
  const series = (label: string, stroke: string, align: -1 | 1) => ({
    label,
    stroke,
    fill: stroke + '88',
    paths: uPlot.paths.bars!({ size: [0.4, 40], align }),
    points: { show: false },
  });
  const chart = new uPlot(
    {
      width: Math.max(el.clientWidth, 280),
      height: 180,
      legend: { show: true },
      ...bucketScale(state),
      series: [{}, series('training', colors[2], -1), series('window', colors[0], 1)],
    },
    [[], [], []],
    el,
  );
  return { chart, caption, state };
}

let reference: TrainingReference | null = null;
let lastDrift: DriftSnapshot | null = null;
const shares = new Map<string, ReturnType<typeof shareChart>>();

function onDrift(drift: DriftSnapshot | null): void {
  lastDrift = drift;
  for (const [bars, statistic, threshold] of [
    [psi, 'psi', 0.25],
    [ks, 'ks', 0.2],
  ] as const) {
    const { names, values } = driftBars(drift, statistic);
    bars.names = names;
    const x = names.map((_, i) => i);
    bars.chart.setData([x, values, x.map(() => threshold)]);
  }
  const charts = shareCharts(drift, reference);
  const keys = new Set(charts.map((c) => c.key));
  for (const [key, old] of shares) {
    if (keys.has(key)) continue;
    old.chart.destroy();
    old.chart.root.closest('figure')?.remove();
    shares.delete(key);
  }
  for (const c of charts) {
    const drawn = shares.get(c.key) ?? shares.set(c.key, shareChart($('drift-shares'), c)).get(c.key)!;
    drawn.caption.textContent = c.caption;
    drawn.chart.setData([c.buckets.map((_, i) => i), c.training, c.window]);
  }
  $('message').textContent = driftLine(drift);
}

function onVersion(view: VersionView | null): void {
  const el = $('version');
  el.replaceChildren();
  if (!view) return;
  const s = view.signature;
  el.append(text('h2', `${view.model} version ${view.version}${view.served ? ' (served)' : ''}: ${s.task}`), text('p', signatureLine(s)));
  const table = document.createElement('table');
  table.id = 'training-metrics';
  for (const [name, value] of Object.entries(view.metrics)) row(table, name, formatMetric(value, 4));
  const inputs = document.createElement('table');
  inputs.id = 'signature-inputs';
  for (const f of s.features) row(inputs, f.name, featureType(f));
  const pictures = document.createElement('div');
  pictures.className = 'grid';
  pictures.id = 'pictures';
  for (const p of view.pictures) {
    const figure = document.createElement('figure');
    const img = document.createElement('img');
    img.src = p.src;
    img.alt = p.caption;
    img.dataset.name = p.name;
    img.addEventListener('error', () => figure.append(text('p', `${p.name} could not be loaded`)));
    figure.append(text('figcaption', p.caption), img);
    pictures.append(figure);
  }
  const columns = document.createElement('div');
  columns.className = 'columns';
  columns.append(table, inputs);
  el.append(columns, pictures);
  if (view.picturesNote) el.append(text('p', view.picturesNote));
  if (!view.served) el.append(button('Show the served version', 'showServed'));
}

/** "Live quality": the served version's figures from ground-truth feedback, made before the version's section. */
function onQuality(quality: LiveQuality | null): void {
  let el = document.getElementById('quality');
  if (!el) {
    el = document.createElement('section');
    el.id = 'quality';
    $('version').before(el);
  }
  const table = document.createElement('table');
  table.id = 'quality-figures';
  if (quality) for (const [name, value] of qualityRows(quality)) row(table, name, value);
  el.replaceChildren(text('h2', 'Live quality'), text('p', qualityCaption(quality)), table);
}

function row(table: HTMLTableElement, name: string, value: string): void {
  const r = table.insertRow();
  r.insertCell().textContent = name;
  r.insertCell().textContent = value;
}

function onStatus(status: ServerStatus | null, error: string | null): void {
  const el = $('serving');
  el.replaceChildren();
  if (!status) {
    $('title').textContent = 'MLOps metrics — server not reachable';
    el.append(text('p', error ?? ''), button('Start server', 'startServer'));
    return;
  }
  const s = status.serving;
  $('title').textContent = s ? `${s.model}@${s.selector} — version ${s.version}` : 'MLOps metrics — no model served yet';
  if (!s) {
    el.append(text('p', status.lastError ?? 'waiting for a model'));
    return;
  }
  $('classes-figure').hidden = s.signature.task !== 'classification';
  const loaded = s.loadedAt.replace('T', ' ').slice(0, 19);
  el.append(text('p', `${s.signature.task} · sha256 ${s.sha256.slice(0, 16)}… · aliases ${s.aliases.join(', ')} · loaded ${loaded}`));
}

function onLoadTest(r: LoadTestResult): void {
  const figure = $('loadtest-figure');
  figure.hidden = false;
  $('loadtest-caption').textContent =
    `Load test: ${Math.round(r.requestsPerSecond)} req/s · p50 ${r.latencyMs.p50} ms · p99 ${r.latencyMs.p99} ms · ` +
    `${r.errors} errors (${r.connections} connections, ${r.durationSeconds} s)`;
  loadtest?.destroy();
  loadtest = lineChart('chart-loadtest', ['requests/s']);
  loadtest.setData([r.timeline.map((_, i) => Date.parse(r.startedAt) / 1000 + i + 1), r.timeline]);
}

function text(tag: string, content: string): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = content;
  return el;
}

function button(label: string, command: WebviewCommand): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  b.addEventListener('click', () => vscode.postMessage({ type: 'command', command }));
  return b;
}

$('predict').addEventListener('click', () => vscode.postMessage({ type: 'command', command: 'sendTestPrediction' }));
$('loadtest').addEventListener('click', () => vscode.postMessage({ type: 'command', command: 'runLoadTest' }));
$('docs').addEventListener('click', () => vscode.postMessage({ type: 'command', command: 'openDocs' }));

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  if (m.type === 'stats') onStats(m.stats);
  else if (m.type === 'monitoring') {
    onDrift(m.monitoring.drift);
    onQuality(m.monitoring.quality);
  } else if (m.type === 'status') onStatus(m.status, m.error);
  else if (m.type === 'loadtest') onLoadTest(m.result);
  else if (m.type === 'version') onVersion(m.view);
  else if (m.type === 'reference') {
    reference = m.reference;
    onDrift(lastDrift);
  }
});
window.addEventListener('resize', () => {
  for (const chart of [rate, latency, classes, psi.chart, ks.chart, loadtest, ...[...shares.values()].map((s) => s.chart)]) {
    const parent = chart?.root.parentElement;
    if (chart && parent) chart.setSize({ width: Math.max(parent.clientWidth, 280), height: 180 });
  }
});
draw();
vscode.postMessage({ type: 'ready' });
