import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { prometheusRuleList, prometheusRulesFile, type PrometheusRule } from '../../server/alerts/prometheus-rules';
import { DEFAULT_ALERTS } from '../../server/alerts/rules';
import { mlops, needs, ROOT, tempDataDir } from '../helpers/cli';

// The alert rules as Prometheus alerting rules: the shipped file is the generated one, promtool accepts
// it with the container's Prometheus config, and promtool's own unit tests see each rule fire and not fire.
const SHIPPED = path.join(ROOT, '.devcontainer', 'mlops-alerts.rules.yml');
const promtool = spawnSync('promtool', ['--version']).status === 0;
const skip = needs(promtool, 'promtool (apt-get install prometheus)');

const RULES = new Map(prometheusRuleList(DEFAULT_ALERTS).map((r) => [r.alert, r]));

/** What promtool expects of a firing rule: the series' labels the expression keeps, the rule's labels and annotations. */
function firing(name: string, seriesLabels: Record<string, string> = {}) {
  const rule = RULES.get(name) as PrometheusRule;
  return { exp_labels: { ...seriesLabels, ...rule.labels }, exp_annotations: rule.annotations };
}

const served = { model: 'iris', version: '1' };
const series = (name: string, labels: Record<string, string>, values: string) => ({
  series: `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`,
  values,
});
/** /predict requests, counted per status as http_request_duration_seconds does (10 s apart in these series). */
const requests = (status: string, perStep: number) =>
  series('http_request_duration_seconds_count', { route: '/predict', method: 'POST', status_code: status }, `0+${perStep}x40`);
const buckets = (shares: [string, number][]) =>
  shares.map(([le, perStep]) =>
    series('http_request_duration_seconds_bucket', { route: '/predict', method: 'POST', le }, `0+${perStep}x40`),
  );

/** promtool unit tests (its YAML format; JSON is YAML) for every default rule. */
function unitTests(rulesFile: string) {
  const check = (alertname: string, eval_time: string, exp_alerts: unknown[]) => ({ alertname, eval_time, exp_alerts });
  const drift = (stat: 'psi' | 'ks', value: number, rows: number) => [
    series(`mlops_drift_feature_${stat}`, { ...served, feature: 'petal_length' }, `${value}x40`),
    series(`mlops_drift_feature_${stat}`, { ...served, feature: 'sepal_width' }, '0.01x40'),
    series('mlops_drift_window_rows', served, `${rows}x40`),
  ];
  const quality = (accuracy: number, labelled: number) => [
    series('mlops_live_accuracy', served, `${accuracy}x40`),
    series('mlops_live_labelled_rows', served, `${labelled}x40`),
  ];
  const tests = [
    // drift: three evaluations over the threshold (0 s, 10 s, 20 s), as the server's engine
    {
      input_series: drift('psi', 0.5, 500),
      alert_rule_test: [check('drift_psi', '10s', []), check('drift_psi', '20s', [firing('drift_psi', served)])],
    },
    { input_series: drift('psi', 0.5, 50), alert_rule_test: [check('drift_psi', '2m', [])] },
    { input_series: drift('psi', 0.1, 500), alert_rule_test: [check('drift_psi', '2m', [])] },
    {
      input_series: drift('ks', 0.35, 500),
      alert_rule_test: [check('drift_ks', '10s', []), check('drift_ks', '20s', [firing('drift_ks', served)])],
    },
    { input_series: drift('ks', 0.15, 500), alert_rule_test: [check('drift_ks', '2m', [])] },
    {
      input_series: quality(0.6, 60),
      alert_rule_test: [check('quality_accuracy', '0s', [firing('quality_accuracy', served)])],
    },
    { input_series: quality(0.6, 10), alert_rule_test: [check('quality_accuracy', '2m', [])] },
    { input_series: quality(0.95, 60), alert_rule_test: [check('quality_accuracy', '2m', [])] },
    // 5 failures in 55 requests every 10 s: 9 %
    { input_series: [requests('200', 50), requests('500', 5)], alert_rule_test: [check('error_rate', '2m', [firing('error_rate')])] },
    // 1 in 51 (2 %), and 50 % of too few requests; 4xx answers are the client's
    { input_series: [requests('200', 50), requests('500', 1)], alert_rule_test: [check('error_rate', '2m', [])] },
    { input_series: [requests('200', 1), requests('500', 1)], alert_rule_test: [check('error_rate', '2m', [])] },
    { input_series: [requests('200', 50), requests('400', 25)], alert_rule_test: [check('error_rate', '2m', [])] },
    // 40 of 50 requests between 0.25 and 0.5 s
    {
      input_series: [
        ...buckets([
          ['0.1', 10],
          ['0.25', 10],
          ['0.5', 50],
          ['+Inf', 50],
        ]),
        requests('200', 50),
      ],
      alert_rule_test: [check('latency_p95', '3m', [firing('latency_p95')])],
    },
    {
      input_series: [
        ...buckets([
          ['0.1', 50],
          ['0.25', 50],
          ['0.5', 50],
          ['+Inf', 50],
        ]),
        requests('200', 50),
      ],
      alert_rule_test: [check('latency_p95', '3m', [])],
    },
  ];
  return { rule_files: [rulesFile], evaluation_interval: '10s', tests: tests.map((t) => ({ interval: '10s', ...t })) };
}

describe('Prometheus alerting rules', () => {
  test('the shipped rules file is the one `mlops alerts prometheus-rules --defaults` writes', () => {
    const dir = tempDataDir();
    const out = path.join(dir, 'rules.yml');
    const r = mlops(dir, ['alerts', 'prometheus-rules', '--defaults', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(out, 'utf8'), prometheusRulesFile(DEFAULT_ALERTS));
    assert.equal(
      fs.readFileSync(SHIPPED, 'utf8'),
      prometheusRulesFile(DEFAULT_ALERTS),
      'regenerate: mlops alerts prometheus-rules --defaults -o …',
    );
  });

  test('promtool check config: the container config with its rules file beside it', { skip }, () => {
    const dir = tempDataDir();
    const config = fs
      .readFileSync(path.join(ROOT, '.devcontainer', 'prometheus.yml'), 'utf8')
      .replace('__SCRAPE_INTERVAL__', '5s')
      .replace('__TARGETS__', "'127.0.0.1:8000', '127.0.0.1:8001'")
      .replace(/__GIT_\w+__/g, 'test');
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), config);
    fs.copyFileSync(SHIPPED, path.join(dir, 'mlops-alerts.rules.yml'));
    const r = spawnSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /SUCCESS: 5 rules found/);
  });

  test('promtool test rules: each rule fires on series past its threshold and not on the others', { skip }, () => {
    const dir = tempDataDir();
    const file = path.join(dir, 'tests.yml');
    fs.writeFileSync(file, JSON.stringify(unitTests(SHIPPED), null, 1));
    const r = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /SUCCESS/);
  });

  test('a project alerts file changes the generated rules', () => {
    const dir = tempDataDir();
    fs.writeFileSync(
      path.join(dir, 'alerts.json'),
      JSON.stringify({ intervalSec: 5, rules: { drift_psi: { threshold: 0.4, windows: 2 } } }),
    );
    const r = mlops(dir, ['alerts', 'prometheus-rules'], { MLOPS_ALERTS_FILE: path.join(dir, 'alerts.json') });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /interval: 5s/);
    assert.match(r.stdout, /mlops_drift_feature_psi\) > 0\.4 and .*\n {8}for: 5s\n/);
    const bad = mlops(dir, ['alerts', 'check'], { MLOPS_ALERTS_FILE: path.join(dir, 'missing-dir', 'x.json') });
    assert.equal(bad.code, 0, 'no file: the defaults');
    fs.writeFileSync(path.join(dir, 'alerts.json'), '{"rules": {"drift_psi": {"windows": 0}}}');
    const invalid = mlops(dir, ['alerts', 'check'], { MLOPS_ALERTS_FILE: path.join(dir, 'alerts.json') });
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /alerts\.json: rules\.drift_psi\.windows: must be a whole number from 1 to 1000000, got 0/);
  });
});
