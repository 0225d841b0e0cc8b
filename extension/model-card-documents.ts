// "Open Model Card": the server's card (GET /api/models/{name}/versions/{v}/card, its live section
// rendered at that moment) shown as a read-only virtual document, mlops-card:/<model>/v<version>/card.md,
// in the Markdown preview. Nothing is written to disk; opening the card again fetches it anew.
import * as vscode from 'vscode';
import type { ApiClient } from './server/api-client';

export const CARD_SCHEME = 'mlops-card';

export function cardUri(model: string, version: number): vscode.Uri {
  return vscode.Uri.from({ scheme: CARD_SCHEME, path: `/${model}/v${version}/card.md` });
}

/** The model and version a card URI names, or null for any other path. */
export function parseCardUri(uri: vscode.Uri): { model: string; version: number } | null {
  const m = /^\/([^/]+)\/v([1-9]\d*)\/card\.md$/.exec(uri.path);
  return m ? { model: m[1], version: Number(m[2]) } : null;
}

/** The virtual documents' content: the text last fetched by the command, else fetched on demand (a reopened editor). */
export class ModelCardDocuments implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly texts = new Map<string, string>();

  constructor(private readonly api: ApiClient) {}

  /** Fetches the card (errors reach the command, which reports them) and opens its preview. */
  async open(model: string, version: number): Promise<void> {
    const uri = cardUri(model, version);
    this.texts.set(uri.toString(), await this.api.modelCard(model, version));
    this.changed.fire(uri);
    await vscode.commands.executeCommand('markdown.showPreview', uri);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const known = this.texts.get(uri.toString());
    if (known !== undefined) return known;
    const ref = parseCardUri(uri);
    if (!ref) return `Not a model card: ${uri.toString()}`;
    try {
      return await this.api.modelCard(ref.model, ref.version);
    } catch (err) {
      return `Cannot fetch the model card of ${ref.model} version ${ref.version}: ${(err as Error).message}`;
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}
