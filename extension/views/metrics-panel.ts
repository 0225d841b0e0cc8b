import crypto from 'node:crypto';
import * as vscode from 'vscode';
import type { ServerEvent, ToWebview } from '../../common/contract';
import { parseWebviewMessage, WEBVIEW_COMMANDS } from '../../common/webview-messages';
import type { ApiClient } from '../server/api-client';
import type { EventStream } from '../server/event-stream';

/**
 * "MLOps: Show Metrics": live charts of the served model. Strict CSP (default-src 'none', nonce
 * scripts, local files through asWebviewUri only); restored after a window reload by the
 * serializer registered in main.ts. Messages from the webview are validated before use.
 */
export class MetricsPanel implements vscode.Disposable {
  static readonly viewType = 'mlops.metrics';
  private static current: MetricsPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private refreshing = false;

  static show(extensionUri: vscode.Uri, api: ApiClient, stream: EventStream): MetricsPanel {
    if (MetricsPanel.current) {
      MetricsPanel.current.panel.reveal();
      return MetricsPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      MetricsPanel.viewType,
      'MLOps Metrics',
      vscode.ViewColumn.Active,
      MetricsPanel.options(extensionUri),
    );
    return (MetricsPanel.current = new MetricsPanel(panel, extensionUri, api, stream));
  }

  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, api: ApiClient, stream: EventStream): void {
    panel.webview.options = MetricsPanel.options(extensionUri);
    MetricsPanel.current = new MetricsPanel(panel, extensionUri, api, stream);
  }

  static post(message: ToWebview): void {
    void MetricsPanel.current?.panel.webview.postMessage(message);
  }

  private static options(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')] };
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly api: ApiClient,
    stream: EventStream,
  ) {
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
    if (message.type === 'ready') void this.refresh();
    else void vscode.commands.executeCommand(WEBVIEW_COMMANDS[message.command]);
  }

  private forward(e: ServerEvent): void {
    if (!this.panel.visible) return;
    if (e.type === 'stats') {
      void this.panel.webview.postMessage({ type: 'stats', stats: e.stats } satisfies ToWebview);
      void this.refreshMonitoring(); // drift moves with the traffic the stats tick reports
    } else if (e.type === 'serving') void this.refresh();
  }

  private async refresh(): Promise<void> {
    try {
      const status = await this.api.status();
      await this.panel.webview.postMessage({ type: 'status', status, error: null } satisfies ToWebview);
      await this.refreshMonitoring();
    } catch (err) {
      await this.panel.webview.postMessage({ type: 'status', status: null, error: (err as Error).message } satisfies ToWebview);
    }
  }

  private async refreshMonitoring(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      await this.panel.webview.postMessage({ type: 'monitoring', monitoring: await this.api.monitoring() } satisfies ToWebview);
    } catch {
      // the status message says what is wrong
    } finally {
      this.refreshing = false;
    }
  }

  private html(): string {
    const webview = this.panel.webview;
    const nonce = crypto.randomBytes(16).toString('base64');
    const media = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', ...p));
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data:`,
      `font-src ${webview.cspSource}`,
      `style-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${media('dist', 'uPlot.min.css')}">
<link rel="stylesheet" href="${media('metrics.css')}">
<title>MLOps Metrics</title>
</head>
<body>
<header>
  <h1 id="title">MLOps metrics</h1>
  <div id="actions">
    <vscode-button id="predict" secondary>Send test prediction</vscode-button>
    <vscode-button id="loadtest" secondary>Run load test</vscode-button>
    <vscode-button id="docs" secondary>Open API docs</vscode-button>
  </div>
</header>
<p id="message" role="status"></p>
<section id="serving"></section>
<div class="grid">
  <figure><figcaption>Requests and errors per second</figcaption><div id="chart-rate" class="chart"></div></figure>
  <figure><figcaption>Latency (ms): p50, p95, p99</figcaption><div id="chart-latency" class="chart"></div></figure>
  <figure><figcaption>Predictions per class per second</figcaption><div id="chart-classes" class="chart"></div></figure>
  <figure><figcaption>Drift per feature: PSI (alert above 0.25)</figcaption><div id="chart-psi" class="chart"></div></figure>
  <figure><figcaption>Drift per feature: Kolmogorov–Smirnov (alert above 0.2)</figcaption><div id="chart-ks" class="chart"></div></figure>
  <figure id="loadtest-figure" hidden>
    <figcaption id="loadtest-caption">Load test</figcaption><div id="chart-loadtest" class="chart"></div>
  </figure>
</div>
<script nonce="${nonce}" src="${media('dist', 'metrics.js')}"></script>
</body>
</html>`;
  }

  dispose(): void {
    MetricsPanel.current = undefined;
    this.panel.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}
