import * as vscode from 'vscode';
import type { RunEvent, RunRecord, ToGraphWebview } from '../../common/contract';
import { parseGraphMessage } from '../../common/webview-messages';
import { Coalescer } from '../coalescer';
import type { ApiClient } from '../server/api-client';
import type { EventStream } from '../server/event-stream';
import { webviewPage } from './webview-page';

/** What a run graph panel talks to. */
interface PanelEnv {
  extensionUri: vscode.Uri;
  api: ApiClient;
  stream: EventStream;
}

/**
 * "MLOps: Show Run Graph": one webview per run drawing its steps as a DAG (media/dag), live while
 * the run runs: each of its events reads the run's record again (coalesced) and posts it. A click
 * on a node asks for that step's log, which is opened only if the run has a step of that name.
 * The same strict CSP as the metrics panel: nonce script and styles from media/ only.
 */
export class RunGraphPanel implements vscode.Disposable {
  static readonly viewType = 'mlops.runGraph';
  private static readonly open = new Map<string, RunGraphPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly reload = new Coalescer(() => this.send());
  private run: RunRecord | null = null;

  static show(extensionUri: vscode.Uri, api: ApiClient, stream: EventStream, runId: string): RunGraphPanel {
    const existing = RunGraphPanel.open.get(runId);
    if (existing) {
      existing.panel.reveal();
      void existing.reload.request();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(RunGraphPanel.viewType, `Run ${runId}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')],
    });
    const created = new RunGraphPanel(panel, { extensionUri, api, stream }, runId);
    RunGraphPanel.open.set(runId, created);
    return created;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly env: PanelEnv,
    readonly runId: string,
  ) {
    panel.iconPath = vscode.Uri.joinPath(env.extensionUri, 'media', 'icon.svg');
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      env.stream.onEvent((e) => e.type === 'run' && e.event.runId === runId && this.onRunEvent(e.event)),
      env.stream.onConnected((up) => up && void this.reload.request()),
    );
  }

  private onRunEvent(e: RunEvent): void {
    if (e.type === 'step.progress') {
      void this.post({ type: 'progress', step: e.step, current: e.current, total: e.total, message: e.message });
      return;
    }
    if (e.type !== 'log' && e.type !== 'metric') void this.reload.request();
  }

  private async receive(raw: unknown): Promise<void> {
    const message = parseGraphMessage(raw);
    if (!message) return; // not ours: ignored
    if (message.type === 'ready') return this.reload.request();
    const step = this.run?.steps.find((s) => s.name === message.step);
    if (step) await vscode.window.showTextDocument(vscode.Uri.file(step.logFile), { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }

  private async send(): Promise<void> {
    try {
      this.run = await this.env.api.run(this.runId);
      this.panel.title = `Run ${this.runId} (${this.run.pipeline})`;
      await this.post({ type: 'run', run: this.run });
    } catch (err) {
      await this.post({ type: 'error', message: `Run ${this.runId}: ${(err as Error).message}` });
    }
  }

  private post(message: ToGraphWebview): Thenable<boolean> {
    return this.panel.webview.postMessage(message);
  }

  private html(): string {
    return webviewPage(this.panel.webview, this.env.extensionUri, {
      title: 'Run graph',
      styles: [['dag', 'dag.css']],
      script: ['dist', 'dag.js'],
      body: '<h1 id="title">Run graph</h1>\n<p id="message" role="status">Loading…</p>\n<div id="canvas"></div>',
    });
  }

  dispose(): void {
    RunGraphPanel.open.delete(this.runId);
    this.panel.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}
