// The run graph webview's script (bundled by esbuild into media/dist/dag.js): draws the run the
// extension posts (ToGraphWebview) as an SVG from dagre's layout, and asks for a step's log on a click.
import type { RunRecord, StepRecord, ToGraphWebview } from '../../common/contract';
import type { FromGraphWebview } from '../../common/webview-messages';
import { layoutSteps, NODE_HEIGHT, NODE_WIDTH, stepCaption } from './layout';

interface VsCodeApi {
  postMessage(message: FromGraphWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const SVG = 'http://www.w3.org/2000/svg';
const $ = (id: string) => document.getElementById(id)!;
/** One glyph per status, beside the colour, so that the state reads without colour too. */
const GLYPHS: Record<string, string> = {
  pending: '○',
  running: '◔',
  succeeded: '✓',
  failed: '✗',
  rejected: '⊘',
  skipped: '↷',
  cached: '⟲',
};
/** Latest progress message per running step ("cell 3 of 12"). */
const progress = new Map<string, string>();
let current: RunRecord | null = null;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, parent?: Element) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  parent?.appendChild(el);
  return el;
}

function text(parent: Element, x: number, y: number, className: string, value: string): void {
  svg('text', { x, y, class: className }, parent).textContent = value;
}

/** Keeps a label inside its node: the full text is in the node's tooltip. */
const fit = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

function drawNode(parent: Element, step: StepRecord, x: number, y: number): void {
  const g = svg('g', { class: `node status-${step.status}`, transform: `translate(${x},${y})`, tabindex: 0, role: 'button' }, parent);
  g.dataset.step = step.name;
  const caption = (step.status === 'running' && progress.get(step.name)) || stepCaption(step);
  svg('title', {}, g).textContent = [`${step.name} (${step.kind} step)`, caption, step.error ?? '', 'Click: open its log']
    .filter(Boolean)
    .join('\n');
  svg('rect', { width: NODE_WIDTH, height: NODE_HEIGHT, rx: 6, ry: 6 }, g);
  text(g, 12, 24, 'glyph', GLYPHS[step.status] ?? '?');
  text(g, 32, 24, 'name', fit(step.name, 20));
  text(g, 12, 44, 'caption', fit(caption, 30));
  const open = () => vscode.postMessage({ type: 'openLog', step: step.name });
  g.addEventListener('click', open);
  g.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') open();
  });
}

function draw(run: RunRecord): void {
  current = run;
  $('title').textContent = `${run.pipeline} · run ${run.id}`;
  const cached = run.steps.filter((s) => s.status === 'cached').length;
  $('message').textContent = [run.status, run.error ?? '', cached ? `${cached} of ${run.steps.length} steps cached` : '']
    .filter(Boolean)
    .join(' · ');
  const graph = layoutSteps(run.steps);
  const root = svg('svg', { id: 'graph', width: graph.width, height: graph.height, viewBox: `0 0 ${graph.width} ${graph.height}` });
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' });
  svg('path', { d: 'M0,0 L10,5 L0,10 z' }, marker);
  svg('defs', {}, root).appendChild(marker);
  for (const e of graph.edges) {
    const d = e.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x},${p.y}`).join(' ');
    const path = svg('path', { class: 'edge', d, 'marker-end': 'url(#arrow)' }, root);
    path.dataset.from = e.from;
    path.dataset.to = e.to;
  }
  for (const n of graph.nodes) drawNode(root, n.step, n.x, n.y);
  // It shrinks to the panel's width (CSS), but not below a size whose labels still read: then it scrolls.
  root.style.minWidth = `${Math.round(graph.width * 0.6)}px`;
  $('canvas').replaceChildren(root);
}

window.addEventListener('message', (event: MessageEvent<ToGraphWebview>) => {
  const m = event.data;
  if (m.type === 'run') {
    for (const s of m.run.steps) if (s.status !== 'running') progress.delete(s.name);
    draw(m.run);
  } else if (m.type === 'progress') {
    progress.set(m.step, `${m.message || `${m.current} of ${m.total}`}`);
    if (current) draw(current);
  } else if (m.type === 'error') $('message').textContent = m.message;
});
vscode.postMessage({ type: 'ready' });
