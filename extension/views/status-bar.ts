import * as vscode from 'vscode';
import type { ServingInfo, ServingStats } from '../../common/contract';
import type { ServerState } from '../server/server-process';

/** `$(pulse) iris@production v3 · 12 req/s`; a click opens the metrics. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('mlops.status', vscode.StatusBarAlignment.Left, 50);
  private serving: ServingInfo | null = null;
  private rate = 0;
  private connected = false;
  private state: ServerState = 'stopped';

  constructor() {
    this.item.name = 'MLOps server';
    this.item.command = 'mlops.showMetrics';
    this.render();
    this.item.show();
  }

  setServing(serving: ServingInfo | null): void {
    this.serving = serving;
    this.render();
  }
  setStats(stats: ServingStats): void {
    this.rate = stats.requestsPerSecond;
    this.render();
  }
  setConnected(connected: boolean): void {
    this.connected = connected;
    this.render();
  }
  setState(state: ServerState): void {
    this.state = state;
    this.render();
  }

  private render(): void {
    if (!this.connected) {
      this.item.text = this.state === 'starting' ? '$(loading~spin) MLOps starting' : '$(circle-slash) MLOps server off';
      this.item.tooltip = 'The MLOps server is not reachable: MLOps: Start Server';
      return;
    }
    if (!this.serving) {
      this.item.text = '$(pulse) MLOps: no model';
      this.item.tooltip = 'The server runs but serves no model yet: MLOps: Train';
      return;
    }
    const s = this.serving;
    const rate = this.rate < 10 ? this.rate.toFixed(1) : Math.round(this.rate);
    this.item.text = `$(pulse) ${s.model}@${s.selector} v${s.version} · ${rate} req/s`;
    this.item.tooltip = `Serving ${s.model} version ${s.version} (${s.aliases.join(', ')}) — click for metrics`;
  }

  dispose(): void {
    this.item.dispose();
  }
}
