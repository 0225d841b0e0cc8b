import * as vscode from 'vscode';
import type { RunRecord } from '../../common/contract';
import type { Deps } from '../deps';
import type { RunNode } from '../views/runs-tree';
import { command } from './register';
import { train } from './train';

const runOf = (d: Deps, node?: RunNode): RunRecord | undefined => (node && node.kind !== 'metric' ? node.run : undefined);

export function registerRunCommands(d: Deps): vscode.Disposable[] {
  return [
    command(d, 'mlops.showStepLog', async (node?: RunNode) => {
      if (node?.kind !== 'step') return;
      await vscode.window.showTextDocument(vscode.Uri.file(node.step.logFile), { preview: true });
    }),
    command(d, 'mlops.showRunLogs', async (node?: RunNode) => {
      const run = runOf(d, node);
      if (!run) return;
      const step = run.steps.find((s) => s.status === 'failed') ?? run.steps.at(-1);
      if (step) await vscode.window.showTextDocument(vscode.Uri.file(step.logFile));
    }),
    command(d, 'mlops.rerun', async (node?: RunNode) => {
      const run = runOf(d, node);
      if (run)
        await train(d, {
          pipeline: run.pipelineFile,
          params: Object.fromEntries(
            Object.entries(run.params)
              .filter(([k]) => k !== 'data')
              .map(([k, v]) => [k, String(v)]),
          ),
        });
    }),
    command(d, 'mlops.compareRuns', async (node?: RunNode) => {
      const first = runOf(d, node);
      if (!first) return;
      const other = await vscode.window.showQuickPick(
        d.runs
          .all()
          .filter((r) => r.id !== first.id)
          .map((r) => ({ label: r.id, description: `${r.pipeline} · ${r.status}`, run: r })),
        { title: `Compare ${first.id} with…` },
      );
      if (!other) return;
      const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: comparison(first, other.run) });
      await vscode.commands.executeCommand('markdown.showPreview', doc.uri);
    }),
  ];
}

/** Params and metrics side by side; differing rows in bold. */
export function comparison(a: RunRecord, b: RunRecord): string {
  const rows = (x: Record<string, unknown>, y: Record<string, unknown>) =>
    [...new Set([...Object.keys(x), ...Object.keys(y)])].sort().map((k) => {
      const [l, r] = [fmt(x[k]), fmt(y[k])];
      return l === r ? `| ${k} | ${l} | ${r} |` : `| **${k}** | **${l}** | **${r}** |`;
    });
  const registered = (run: RunRecord) => (run.registered ? `${run.registered.model} v${run.registered.version}` : '-');
  return [
    `# Run ${a.id} vs ${b.id}`,
    '',
    `| | ${a.id} | ${b.id} |`,
    '|---|---|---|',
    `| status | ${a.status} | ${b.status} |`,
    `| registered | ${registered(a)} | ${registered(b)} |`,
    '',
    '## Params',
    '| param | a | b |',
    '|---|---|---|',
    ...rows(a.params, b.params),
    '',
    '## Metrics',
    '| metric | a | b |',
    '|---|---|---|',
    ...rows(a.metrics, b.metrics),
  ].join('\n');
}

function fmt(v: unknown): string {
  if (v === undefined) return '-';
  if (typeof v === 'number' && !Number.isInteger(v)) return v.toFixed(4);
  return String(v);
}
