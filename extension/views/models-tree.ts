import * as vscode from 'vscode';
import type { ModelSummary, ModelVersion } from '../../common/contract';
import { featureType, formatMetric, metricsLine } from '../model-text';
import type { ApiClient } from '../server/api-client';
import { RefreshingTree } from './refreshing-tree';

export type ModelNode = { kind: 'model'; model: ModelSummary } | { kind: 'version'; version: ModelVersion };

/** Model Registry: models, then their versions with alias badges, key metrics, lineage in the tooltip. */
export class ModelsTree extends RefreshingTree<ModelNode> implements vscode.TreeDataProvider<ModelNode> {
  private models: ModelSummary[] = [];
  private versions = new Map<string, ModelVersion[]>();
  /** Version the server serves now, to mark it. */
  served: { model: string; version: number } | null = null;

  constructor(
    private readonly api: ApiClient,
    /** The alias whose version gets the star (mlops.defaultAlias). */
    private readonly defaultAlias: () => string,
  ) {
    super();
  }

  /** The star's alias, read once per load rather than per drawn row. */
  private starAlias: string | null = null;

  /** Reads the registry in one request. */
  protected async load(): Promise<void> {
    try {
      this.starAlias = this.defaultAlias();
    } catch {
      this.starAlias = null; // a bad setting is reported where it is used; no star meanwhile
    }
    try {
      const { models } = await this.api.registry();
      this.models = models.map((m) => m.model);
      this.versions = new Map(models.map((m) => [m.model.name, m.versions]));
    } catch {
      this.models = [];
      this.versions.clear();
    }
    this.changed.fire(undefined);
  }

  versionsOf(model: string): ModelVersion[] {
    return this.versions.get(model) ?? [];
  }

  getTreeItem(node: ModelNode): vscode.TreeItem {
    if (node.kind === 'model') {
      const m = node.model;
      const item = new vscode.TreeItem(m.name, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `model:${m.name}`;
      item.iconPath = new vscode.ThemeIcon('package');
      item.description = [
        `${m.versions} version${m.versions === 1 ? '' : 's'}`,
        ...Object.entries(m.aliases).map(([a, v]) => `${a}→v${v}`),
      ].join(' · ');
      item.contextValue = 'model';
      return item;
    }
    const v = node.version;
    const serving = this.served?.model === v.model && this.served.version === v.version;
    const item = new vscode.TreeItem(`v${v.version}`, vscode.TreeItemCollapsibleState.None);
    item.id = `version:${v.model}/${v.version}`;
    const starred = this.starAlias !== null && v.aliases.includes(this.starAlias);
    item.iconPath = new vscode.ThemeIcon(serving ? 'broadcast' : starred ? 'star-full' : 'circle-small-filled');
    const badges = v.aliases.map((a) => `@${a}`).join(' ');
    const created = v.createdAt.replace('T', ' ').slice(0, 16);
    item.description = [badges, metricsLine(v.signature, v.metrics), serving ? 'serving' : '', created].filter(Boolean).join(' · ');
    const g = v.lineage.git;
    item.tooltip = new vscode.MarkdownString(
      [
        `**${v.model}** version ${v.version} ${badges}`,
        `\n\n\`models:/${v.model}/${v.version}\` · sha256 \`${v.sha256.slice(0, 16)}…\``,
        `\n\n**Lineage** — run \`${v.lineage.runId ?? '-'}\` · git ${g.branch ?? '-'} \`${g.commit?.slice(0, 10) ?? '-'}\`` +
          (g.dirty ? ' (dirty)' : ''),
        ...v.lineage.dataFiles.map((f) => `\n- data \`${f.path}\` sha256 \`${f.sha256.slice(0, 12)}…\``),
        `\n\n**Metrics** (${v.signature.task}) — ${Object.entries(v.metrics)
          .map(([k, x]) => `${k} ${formatMetric(x)}`)
          .join(', ')}`,
        `\n\n**Inputs** — ${v.signature.features.map((f) => `\`${f.name}\` ${featureType(f)}`).join(' · ')}`,
      ].join(''),
    );
    item.contextValue = 'version';
    return item;
  }

  /** A version's parent is its model (what TreeView.reveal walks up). */
  getParent(node: ModelNode): ModelNode | undefined {
    if (node.kind === 'model') return undefined;
    const model = this.models.find((m) => m.name === node.version.model);
    return model ? { kind: 'model', model } : undefined;
  }

  getChildren(node?: ModelNode): ModelNode[] {
    if (!node) return this.models.map((model) => ({ kind: 'model', model }));
    if (node.kind === 'model') return this.versionsOf(node.model.name).map((version) => ({ kind: 'version', version }));
    return [];
  }
}
