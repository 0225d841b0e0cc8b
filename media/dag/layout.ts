// The run graph's layout: dagre places the steps (one node each) and routes the `needs` edges.
// Pure (no DOM), so a unit test runs it in Node; media/dag/main.ts draws the SVG from it.
import { Graph, layout } from '@dagrejs/dagre';
import type { StepRecord } from '../../common/contract';

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 58;
/** Room around the drawing, so that borders and the arrowheads at the edge are not clipped. */
const MARGIN = 16;

export interface PlacedStep {
  step: StepRecord;
  /** Top-left corner. */
  x: number;
  y: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  points: { x: number; y: number }[];
}

export interface RunGraphLayout {
  width: number;
  height: number;
  nodes: PlacedStep[];
  edges: PlacedEdge[];
}

/** Lays out a run's steps left to right; a need naming no step of the run draws no edge. */
export function layoutSteps(steps: StepRecord[]): RunGraphLayout {
  const g = new Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 56, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  const names = new Set(steps.map((s) => s.name));
  for (const s of steps) g.setNode(s.name, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const s of steps) for (const need of s.needs) if (names.has(need) && need !== s.name) g.setEdge(need, s.name);
  layout(g);
  const nodes = steps.map((step) => {
    const n = g.node(step.name);
    return { step, x: n.x - NODE_WIDTH / 2, y: n.y - NODE_HEIGHT / 2 };
  });
  const edges = g.edges().map((e) => ({ from: e.v, to: e.w, points: g.edge(e).points ?? [] }));
  const label = g.graph();
  return { width: label.width ?? 0, height: label.height ?? 0, nodes, edges };
}

const seconds = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms / 1000)} s`);

/** A node's second line: its status, duration, and the run a cached step came from. */
export function stepCaption(step: StepRecord): string {
  if (step.status === 'cached') return step.cachedFrom ? `cached · from run ${step.cachedFrom}` : 'cached';
  const parts: string[] = [step.status];
  if (step.durationMs !== null) parts.push(seconds(step.durationMs));
  return parts.join(' · ');
}
