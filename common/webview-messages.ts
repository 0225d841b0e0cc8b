// Messages from the metrics webview to the extension. They are untrusted input (whatever runs in the
// webview can post anything), so the extension acts only on what parseWebviewMessage accepts. The
// webview's script imports the types; the extension host imports the parser and the command map.

/** The commands the webview may ask for, by name, and the VS Code command each one runs: the only list. */
export const WEBVIEW_COMMANDS = {
  sendTestPrediction: 'mlops.sendTestPrediction',
  openDocs: 'mlops.openDocs',
  runLoadTest: 'mlops.runLoadTest',
  startServer: 'mlops.startServer',
  /** Show Metrics without a version: the evaluation follows the served version again. */
  showServed: 'mlops.showMetrics',
  promoteChallenger: 'mlops.promoteChallenger',
} as const;

export type WebviewCommand = keyof typeof WEBVIEW_COMMANDS;

export type FromWebview = { type: 'ready' } | { type: 'command'; command: WebviewCommand };

const isWebviewCommand = (value: unknown): value is WebviewCommand => typeof value === 'string' && Object.hasOwn(WEBVIEW_COMMANDS, value);

export function parseWebviewMessage(message: unknown): FromWebview | null {
  if (typeof message !== 'object' || message === null) return null;
  const m = message as Record<string, unknown>;
  if (m.type === 'ready' && Object.keys(m).length === 1) return { type: 'ready' };
  if (m.type === 'command' && Object.keys(m).length === 2 && isWebviewCommand(m.command)) return { type: 'command', command: m.command };
  return null;
}

// Messages from the run graph webview: it is ready for the run, or a node was clicked (open that step's log).
export type FromGraphWebview = { type: 'ready' } | { type: 'openLog'; step: string };

export function parseGraphMessage(message: unknown): FromGraphWebview | null {
  if (typeof message !== 'object' || message === null) return null;
  const m = message as Record<string, unknown>;
  if (m.type === 'ready' && Object.keys(m).length === 1) return { type: 'ready' };
  const step = m.step;
  if (m.type === 'openLog' && Object.keys(m).length === 2 && typeof step === 'string' && step.length > 0 && step.length <= 200)
    return { type: 'openLog', step };
  return null;
}
