import * as vscode from 'vscode';
import type { AlertState, RetrainRequest } from '../../common/contract';
import type { Deps } from '../deps';
import { command } from './register';

/** The notification's buttons. */
export const SHOW_METRICS = 'Show Metrics';
export const RETRAIN = 'Retrain';

/**
 * An alert that starts firing is a warning notification with "Show Metrics" and "Retrain"; a resolved
 * one is a line in the MLOps log. `mlops.retrain` is also a command of its own (the palette, the
 * notification passes the alert's rule as the trigger).
 */
export function registerAlertCommands(d: Deps): vscode.Disposable[] {
  return [
    command(d, 'mlops.retrain', async (trigger?: string) => {
      const req: RetrainRequest = { trigger: typeof trigger === 'string' ? trigger : 'manual' };
      const r = await d.api.retrain(req);
      void vscode.window.showInformationMessage(
        `MLOps: retraining ${r.model} version ${r.fromVersion} (run ${r.runId}, ${r.rows} rows of which ${r.labelledRows} labelled); ` +
          'a version that passes the gate becomes the challenger',
      );
    }),
    d.stream.onEvent((e) => {
      if (e.type === 'alert') void notify(d, e.alert);
    }),
  ];
}

async function notify(d: Deps, alert: AlertState): Promise<void> {
  if (!alert.firing) {
    d.log.info(`alert ${alert.rule} ${alert.message}`);
    return;
  }
  d.log.warn(`alert ${alert.rule} firing: ${alert.message}`);
  const pick = await vscode.window.showWarningMessage(`MLOps alert ${alert.rule}: ${alert.message}`, SHOW_METRICS, RETRAIN);
  if (pick === SHOW_METRICS) await vscode.commands.executeCommand('mlops.showMetrics');
  else if (pick === RETRAIN) await vscode.commands.executeCommand('mlops.retrain', `alert:${alert.rule}`);
}
