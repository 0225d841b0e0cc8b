import * as vscode from 'vscode';
import type { RunEvent, RunRecord, StepStatus } from '../../common/contract';
import { stepFiles, viewerFor, type StepFile } from '../artifacts/artifact-files';
import { runMetricsLine } from '../model-text';
import type { ApiClient } from '../server/api-client';
import { RefreshingTree } from './refreshing-tree';

const ICONS: Record<string, [string, string?]> = {
  queued: ['clock'],
  running: ['sync~spin', 'charts.blue'],
  pending: ['circle-outline'],
  succeeded: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  rejected: ['circle-slash', 'list.warningForeground'],
  cancelled: ['debug-stop'],
  skipped: ['debug-step-over', 'disabledForeground'],
  cached: ['history', 'testing.iconPassed'],
};

export function statusIcon(status: string): vscode.ThemeIcon {
  const [id, color] = ICONS[status] ?? ['question'];
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

const seconds = (ms: number | null) => (ms === null ? '' : `${(ms / 1000).toFixed(2)} s`);

export type RunNode =
  | { kind: 'run'; run: RunRecord }
  | { kind: 'step'; run: RunRecord; step: RunRecord['steps'][number] }
  /** A file a step wrote (or its executed notebook): opening it opens it in the editor that suits it. */
  | { kind: 'artifact'; run: RunRecord; step: RunRecord['steps'][number]; file: StepFile }
  | { kind: 'metric'; name: string; value: number };

/** Pipeline Runs: newest first; children are steps (live while running) and the run's metrics. */
export class RunsTree extends RefreshingTree<RunNode> implements vscode.TreeDataProvider<RunNode> {
  private runs: RunRecord[] = [];
  private error: string | null = null;

  constructor(private readonly api: ApiClient) {
    super();
  }

  protected async load(): Promise<void> {
    try {
      this.runs = await this.api.runs();
      this.error = null;
    } catch (err) {
      this.runs = [];
      this.error = (err as Error).message;
    }
    void vscode.commands.executeCommand('setContext', 'mlops.serverReachable', this.error === null);
    this.changed.fire(undefined);
  }

  /** Live progress from the runner's events, before the run's record is read again. */
  onRunEvent(e: RunEvent): void {
    const run = this.runs.find((r) => r.id === e.runId);
    if (!run || e.type === 'run.started' || e.type === 'run.finished') {
      void this.refresh();
      return;
    }
    if (e.type === 'step.started' || e.type === 'step.finished') {
      const step = run.steps.find((s) => s.name === e.step);
      if (step) {
        step.status = e.type === 'step.started' ? 'running' : (e.status as StepStatus);
        if (e.type === 'step.finished') step.durationMs = e.durationMs;
        if (e.type === 'step.finished') step.cachedFrom = e.cachedFrom ?? null;
      }
    }
    if (e.type === 'metric') run.metrics[e.name] = e.value;
    this.changed.fire({ kind: 'run', run });
  }

  get(id: string): RunRecord | undefined {
    return this.runs.find((r) => r.id === id);
  }

  all(): RunRecord[] {
    return this.runs;
  }

  getTreeItem(node: RunNode): vscode.TreeItem {
    if (node.kind === 'run') {
      const r = node.run;
      const item = new vscode.TreeItem(`${r.pipeline} · ${r.id}`, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = r.id;
      item.iconPath = statusIcon(r.status);
      const outcome = r.registered ? `${r.registered.model} v${r.registered.version}` : r.status;
      item.description = [outcome, seconds(r.durationMs), runMetricsLine(r.metrics)].filter(Boolean).join(' · ');
      item.tooltip = new vscode.MarkdownString(
        [
          `**${r.pipeline}** run \`${r.id}\` — ${r.status}`,
          r.error ? `\n\n${r.error}` : '',
          '\n\n| param | value |\n|---|---|',
          ...Object.entries(r.params).map(([k, v]) => `| ${k} | ${String(v)} |`),
        ].join('\n'),
      );
      item.contextValue = `run.${r.status}`;
      return item;
    }
    if (node.kind === 'step') {
      const s = node.step;
      const files = stepFiles(node.run.runDir, s).length > 0;
      const item = new vscode.TreeItem(s.name, files ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      item.id = `${node.run.id}/${s.name}`;
      item.iconPath = statusIcon(s.status);
      const reused = s.cachedFrom ? `cached from ${s.cachedFrom}` : '';
      item.description = [reused || seconds(s.durationMs), s.error ?? ''].filter(Boolean).join(' · ');
      item.tooltip = s.error ?? (reused ? `${s.name}: ${reused}` : `${s.name}: ${s.status}`);
      // Screen readers (and the e2e test) tell apart the steps of different runs, which share names.
      item.accessibilityInformation = { label: `${s.name}, step of run ${node.run.id}, ${s.status}` };
      item.contextValue = 'step';
      item.command = { command: 'mlops.showStepLog', title: 'Show Log', arguments: [node] };
      return item;
    }
    if (node.kind === 'artifact') return artifactItem(node.run, node.step.name, node.file);
    const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.None);
    item.description = Number.isInteger(node.value) ? String(node.value) : node.value.toFixed(4);
    item.iconPath = new vscode.ThemeIcon('graph-line');
    return item;
  }

  getChildren(node?: RunNode): RunNode[] {
    if (!node) return this.runs.map((run) => ({ kind: 'run', run }));
    if (node.kind === 'step')
      return stepFiles(node.run.runDir, node.step).map((file): RunNode => ({ kind: 'artifact', run: node.run, step: node.step, file }));
    if (node.kind !== 'run') return [];
    // A classifier's and a regression model's key figures (a run records one task's).
    const keys = ['accuracy', 'macro_f1', 'train_accuracy', 'recall_gap', 'rmse', 'mae', 'r2', 'train_rmse', 'train_r2', 'onnx_parity'];
    return [
      ...node.run.steps.map((step): RunNode => ({ kind: 'step', run: node.run, step })),
      ...keys
        .filter((k) => node.run.metrics[k] !== undefined)
        .map((name): RunNode => ({ kind: 'metric', name, value: node.run.metrics[name] })),
    ];
  }
}

const FILE_ICONS = { notebook: 'notebook', image: 'file-media', text: 'file-text', default: 'file-binary' } as const;

function artifactItem(run: RunRecord, step: string, f: StepFile): vscode.TreeItem {
  const item = new vscode.TreeItem(f.label, vscode.TreeItemCollapsibleState.None);
  item.id = `${run.id}/${step}/${f.notebook ? 'notebook' : 'artifact'}/${f.label}`;
  item.iconPath = new vscode.ThemeIcon(FILE_ICONS[viewerFor(f.file)]);
  item.description = f.notebook ? 'executed notebook' : undefined;
  item.tooltip = f.file;
  item.resourceUri = vscode.Uri.file(f.file);
  item.contextValue = 'artifact';
  item.command = { command: 'mlops.openArtifact', title: 'Open', arguments: [f.file] };
  return item;
}
