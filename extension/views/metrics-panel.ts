import path from 'node:path';
import * as vscode from 'vscode';
import type { ServerEvent, ServingInfo, ToWebview, VersionView } from '../../common/contract';
import { parseWebviewMessage, WEBVIEW_COMMANDS } from '../../common/webview-messages';
import { artifactFile, evaluationPictures, isInside } from '../evaluation-pictures';
import type { ApiClient } from '../server/api-client';
import { dataDirectory } from '../settings';
import type { EventStream } from '../server/event-stream';
import { webviewPage } from './webview-page';

/**
 * "MLOps: Show Metrics": live charts of the served model, and the evaluation of a version (the
 * served one unless one was picked): its metrics, typed inputs and the pictures in its run folder.
 * Strict CSP (default-src 'none', nonce scripts, local files through asWebviewUri only, from the
 * extension's media and the data dir's runs); restored after a window reload by the serializer
 * registered in main.ts. Messages from the webview are validated before use.
 */
type Selection = { model: string; version: number };

export class MetricsPanel implements vscode.Disposable {
  static readonly viewType = 'mlops.metrics';
  private static current: MetricsPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private refreshing = false;
  /** The version whose evaluation is shown; null follows the served one. */
  private selected: Selection | null = null;
  /** Folders of run artifacts the webview may load (localResourceRoots beyond media/). */
  private readonly roots: string[] = [];
  /** The served version whose training reference the webview has. */
  private referenceOf = '';

  /** Opens (or reveals) the panel; with `version`, shows that version's evaluation, else the served one's. */
  static show(extensionUri: vscode.Uri, api: ApiClient, stream: EventStream, version?: Selection): MetricsPanel {
    const current = MetricsPanel.current;
    if (current) {
      current.panel.reveal();
      current.selected = version ?? null;
      void current.refresh();
      return current;
    }
    const panel = vscode.window.createWebviewPanel(MetricsPanel.viewType, 'MLOps Metrics', vscode.ViewColumn.Active, {
      enableScripts: true,
    });
    return (MetricsPanel.current = new MetricsPanel(panel, extensionUri, api, stream, version ?? null));
  }

  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, api: ApiClient, stream: EventStream): void {
    MetricsPanel.current = new MetricsPanel(panel, extensionUri, api, stream, null);
  }

  static post(message: ToWebview): void {
    void MetricsPanel.current?.panel.webview.postMessage(message);
  }

  /**
   * Lets the webview load files under `root` too. Changing the roots reloads the webview (it asks
   * for its data again when ready), so they only ever grow: the runs folder of the configured data
   * dir from the start, another one only if the server reports a different data dir.
   */
  private allow(root: string): boolean {
    if (this.roots.some((r) => isInside(r, root))) return false;
    this.roots.push(root);
    this.panel.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'media'), ...this.roots.map((r) => vscode.Uri.file(r))],
    };
    return true;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly api: ApiClient,
    stream: EventStream,
    selected: Selection | null,
  ) {
    this.selected = selected;
    let runs: string | null = null;
    try {
      runs = path.join(dataDirectory(), 'runs');
    } catch {
      // a bad setting is reported where it is used; the server's own data dir is allowed when known
    }
    if (runs === null || !this.allow(runs)) this.allow(path.join(extensionUri.fsPath, 'media'));
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      stream.onEvent((e) => this.forward(e)),
    );
  }

  private receive(raw: unknown): void {
    const message = parseWebviewMessage(raw);
    if (!message) return; // not ours: ignored
    if (message.type === 'ready') {
      this.referenceOf = ''; // a (re)loaded webview has no reference yet
      void this.refresh();
    } else void vscode.commands.executeCommand(WEBVIEW_COMMANDS[message.command]);
  }

  private forward(e: ServerEvent): void {
    if (!this.panel.visible) return;
    if (e.type === 'stats') {
      void this.post({ type: 'stats', stats: e.stats });
      void this.refreshMonitoring(); // drift moves with the traffic the stats tick reports
    } else if (e.type === 'serving') void this.refresh();
    else if (e.type === 'challenger') void this.post({ type: 'challenger', challenger: e.challenger });
  }

  private async refresh(): Promise<void> {
    try {
      const status = await this.api.status();
      await this.post({ type: 'status', status, error: null });
      this.allow(path.join(status.dataDir, 'runs')); // the server's data dir may not be the configured one
      await this.post({ type: 'version', view: await this.versionView(status.serving) });
      await this.refreshReference(status.serving);
      await this.refreshMonitoring();
    } catch (err) {
      await this.post({ type: 'status', status: null, error: (err as Error).message });
    }
  }

  private post(message: ToWebview): Thenable<boolean> {
    return this.panel.webview.postMessage(message);
  }

  /** The training reference of the served version, sent when the served version changes. */
  private async refreshReference(serving: ServingInfo | null): Promise<void> {
    const key = serving ? `${serving.model}/${serving.version}` : '';
    if (key === this.referenceOf) return;
    const reference = serving ? (await this.api.version(serving.model, serving.version)).reference : null;
    await this.post({ type: 'reference', reference });
    this.referenceOf = key;
  }

  /** The selected (else the served) version with the evaluation pictures its run left. */
  private async versionView(serving: ServingInfo | null): Promise<VersionView | null> {
    const which = this.selected ?? (serving ? { model: serving.model, version: serving.version } : null);
    if (!which) return null;
    const v = await this.api.version(which.model, which.version);
    const view: VersionView = {
      model: v.model,
      version: v.version,
      served: serving?.model === v.model && serving.version === v.version,
      signature: v.signature,
      metrics: v.metrics,
      pictures: [],
      picturesNote: null,
    };
    if (!v.lineage.runId) return { ...view, picturesNote: 'no run folder: this version was not trained by a pipeline run here' };
    const run = await this.api.run(v.lineage.runId).catch(() => null);
    if (!run) return { ...view, picturesNote: `run ${v.lineage.runId} is not in the registry any more` };
    for (const p of evaluationPictures(v.signature.task, run.artifacts)) {
      const file = artifactFile(run.runDir, p.artifact);
      if (!file || !this.roots.some((r) => isInside(r, file))) continue;
      const src = this.panel.webview.asWebviewUri(vscode.Uri.file(file)).toString();
      view.pictures.push({ name: p.name, caption: p.caption, src });
    }
    if (view.pictures.length === 0) view.picturesNote = `run ${run.id} left no evaluation pictures`;
    return view;
  }

  private async refreshMonitoring(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      await this.post({ type: 'monitoring', monitoring: await this.api.monitoring() });
    } catch {
      // the status message says what is wrong
    } finally {
      this.refreshing = false;
    }
  }

  private html(): string {
    return webviewPage(this.panel.webview, this.extensionUri, {
      title: 'MLOps Metrics',
      styles: [['dist', 'uPlot.min.css'], ['metrics.css']],
      script: ['dist', 'metrics.js'],
      images: true,
      body: `<header>
  <h1 id="title">MLOps metrics</h1>
  <div id="actions">
    <vscode-button id="predict" secondary>Send test prediction</vscode-button>
    <vscode-button id="loadtest" secondary>Run load test</vscode-button>
    <vscode-button id="docs" secondary>Open API docs</vscode-button>
  </div>
</header>
<p id="message" role="status"></p>
<section id="serving"></section>
<section id="alerts"></section>
<section id="challenger" hidden></section>
<div class="grid">
  <figure><figcaption>Requests and errors per second</figcaption><div id="chart-rate" class="chart"></div></figure>
  <figure><figcaption>Latency (ms): p50, p95, p99</figcaption><div id="chart-latency" class="chart"></div></figure>
  <figure id="classes-figure"><figcaption>Predictions per class per second</figcaption><div id="chart-classes" class="chart"></div></figure>
  <figure><figcaption>Drift per feature: PSI (drift_psi alert above 0.25)</figcaption><div id="chart-psi" class="chart"></div></figure>
  <figure><figcaption>Drift per numeric feature: KS (drift_ks alert above 0.2)</figcaption><div id="chart-ks" class="chart"></div></figure>
  <figure id="loadtest-figure" hidden>
    <figcaption id="loadtest-caption">Load test</figcaption><div id="chart-loadtest" class="chart"></div>
  </figure>
</div>
<div id="drift-shares" class="grid"></div>
<section id="version"></section>`,
    });
  }

  dispose(): void {
    MetricsPanel.current = undefined;
    this.panel.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}
