import fs from 'node:fs';
import type { Command } from 'commander';
import { alertsFilePath, readAlertsFile } from '../../server/alerts/config-file';
import { prometheusRulesFile } from '../../server/alerts/prometheus-rules';
import { DEFAULT_ALERTS } from '../../server/alerts/rules';

export function alertsCommand(program: Command): void {
  const alerts = program
    .command('alerts')
    .description("the server's alert rules (defaults in the README; overrides in mlops-alerts.json or MLOPS_ALERTS_FILE)");
  alerts
    .command('check')
    .description('validate the alerts file and print the rules the server would use')
    .action(() => {
      const file = alertsFilePath();
      const config = readAlertsFile(file);
      const source = fs.existsSync(file) ? file : 'the defaults (no alerts file)';
      process.stdout.write(`${source}: every ${config.intervalSec} s\n`);
      for (const r of config.rules) process.stdout.write(`  ${r.enabled ? 'on ' : 'off'} ${JSON.stringify(r)}\n`);
    });
  alerts
    .command('prometheus-rules')
    .description('write the rules as Prometheus alerting rules (YAML); .devcontainer ships the defaults')
    .option('--defaults', 'the default rules, ignoring the alerts file')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action((flags: { defaults?: boolean; out?: string }) => {
      const text = prometheusRulesFile(flags.defaults ? DEFAULT_ALERTS : readAlertsFile(alertsFilePath()));
      if (flags.out) fs.writeFileSync(flags.out, text);
      else process.stdout.write(text);
    });
}
