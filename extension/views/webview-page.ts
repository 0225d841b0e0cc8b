import crypto from 'node:crypto';
import * as vscode from 'vscode';

export interface PageParts {
  title: string;
  /** Style sheets and the one script, as paths under media/. */
  styles: string[][];
  script: string[];
  body: string;
  /** Also images (the extension's and data: URIs, e.g. evaluation pictures) and fonts (codicons). */
  images?: boolean;
}

/**
 * A webview's HTML under the strict CSP every webview of the extension has: nothing by default,
 * styles from the extension's media only, and one script carrying a fresh nonce.
 */
export function webviewPage(webview: vscode.Webview, extensionUri: vscode.Uri, p: PageParts): string {
  const nonce = crypto.randomBytes(16).toString('base64');
  const media = (parts: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', ...parts));
  const csp = [
    "default-src 'none'",
    ...(p.images ? [`img-src ${webview.cspSource} data:`, `font-src ${webview.cspSource}`] : []),
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const styles = p.styles.map((s) => `<link rel="stylesheet" href="${media(s)}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles}
<title>${p.title}</title>
</head>
<body>
${p.body}
<script nonce="${nonce}" src="${media(p.script)}"></script>
</body>
</html>`;
}
