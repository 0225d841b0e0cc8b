import * as vscode from 'vscode';
import type { ModelVersion } from '../../common/contract';
import { modelUri } from '../../common/model-uri';
import { checkAlias } from '../../common/registry/names';
import type { Deps } from '../deps';
import { metricsLine } from '../model-text';
import type { ModelNode } from '../views/models-tree';
import { settings } from '../settings';
import { MetricsPanel } from '../views/metrics-panel';
import { command } from './register';
import { CARD_SCHEME, ModelCardDocuments } from '../model-card-documents';

async function pickVersion(d: Deps, node?: ModelNode): Promise<ModelVersion | undefined> {
  if (node?.kind === 'version') return node.version;
  await d.models.refresh();
  const models = d.models.getChildren().filter((n): n is Extract<ModelNode, { kind: 'model' }> => n.kind === 'model');
  const model =
    node?.kind === 'model'
      ? node.model
      : models.length === 1
        ? models[0].model
        : (
            await vscode.window.showQuickPick(
              models.map((m) => ({ label: m.model.name, m })),
              { title: 'Model' },
            )
          )?.m.model;
  if (!model) return undefined;
  const picked = await vscode.window.showQuickPick(
    d.models.versionsOf(model.name).map((v) => ({
      label: `v${v.version}`,
      description: [v.aliases.join(' '), metricsLine(v.signature, v.metrics)].join(' '),
      v,
    })),
    { title: `${model.name}: version` },
  );
  return picked?.v;
}

async function promote(d: Deps, v: ModelVersion, alias: string): Promise<void> {
  const move = await d.api.promote(v.model, alias, v.version);
  await d.models.refresh();
  void vscode.window.showInformationMessage(`${v.model}@${alias}: ${move.fromVersion ?? '(none)'} → ${move.toVersion}`);
}

/** Why a typed alias would be refused (the registry's own rule), or null. */
function aliasProblem(value: string): string | null {
  try {
    checkAlias(value);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export function registerModelCommands(d: Deps): vscode.Disposable[] {
  const cards = new ModelCardDocuments(d.api);
  return [
    command(d, 'mlops.promote', async (node?: ModelNode) => {
      const v = await pickVersion(d, node);
      if (!v) return;
      const aliases = [...new Set([settings().defaultAlias, 'staging']), 'Other…'];
      const alias = await vscode.window.showQuickPick(aliases, { title: `Promote ${v.model} v${v.version} to alias` });
      const name = alias === 'Other…' ? await vscode.window.showInputBox({ prompt: 'Alias name', validateInput: aliasProblem }) : alias;
      if (name) await promote(d, v, name);
    }),
    command(d, 'mlops.serveVersion', async (node?: ModelNode) => {
      const v = await pickVersion(d, node);
      if (v) await promote(d, v, settings().defaultAlias);
    }),
    command(d, 'mlops.rollback', async (node?: ModelNode) => {
      const name = node?.kind === 'model' ? node.model.name : node?.kind === 'version' ? node.version.model : (await pickVersion(d))?.model;
      if (!name) return;
      const alias = settings().defaultAlias;
      const { history } = await d.api.model(name);
      const last = [...history].reverse().find((h) => h.alias === alias && h.fromVersion !== null);
      if (!last) return void vscode.window.showWarningMessage(`${name}@${alias} has no earlier version to roll back to`);
      const target = d.models.versionsOf(name).find((x) => x.version === last.fromVersion);
      if (target) await promote(d, target, alias);
    }),
    command(d, 'mlops.copyModelUri', async (node?: ModelNode) => {
      const v = await pickVersion(d, node);
      if (!v) return;
      // The URI `mlops serve`, `mlops models show|promote` and GET /api/models/{uri} accept (common/model-uri.ts).
      const uri = modelUri(v.model, v.version);
      await vscode.env.clipboard.writeText(uri);
      void vscode.window.setStatusBarMessage(`Copied ${uri}`, 3000);
    }),
    command(d, 'mlops.showVersionMetrics', async (node?: ModelNode) => {
      const v = await pickVersion(d, node);
      if (v) MetricsPanel.show(d.context.extensionUri, d.api, d.stream, { model: v.model, version: v.version });
    }),
    vscode.workspace.registerTextDocumentContentProvider(CARD_SCHEME, cards),
    cards,
    command(d, 'mlops.openModelCard', async (node?: ModelNode) => {
      const v = await pickVersion(d, node);
      if (v) await cards.open(v.model, v.version);
    }),
  ];
}
