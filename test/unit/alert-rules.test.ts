import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isMlopsError } from '../../common/errors';
import { DEFAULT_ALERTS, parseAlertsConfig } from '../../server/alerts/rules';

const FILE = '/project/mlops-alerts.json';
const parse = (config: unknown) => parseAlertsConfig(JSON.stringify(config), FILE);

function rejects(config: unknown, message: RegExp): void {
  assert.throws(
    () => (typeof config === 'string' ? parseAlertsConfig(config, FILE) : parse(config)),
    (err: unknown) => isMlopsError(err) && err.code === 'ALERTS_CONFIG' && message.test(err.message),
  );
}

test('an empty file is the defaults; an override changes only the fields it gives', () => {
  assert.deepEqual(parse({}), DEFAULT_ALERTS);
  const config = parse({ intervalSec: 2, rules: { drift_psi: { threshold: 0.3, windows: 5 }, latency_p95: { enabled: false } } });
  assert.equal(config.intervalSec, 2);
  const psi = config.rules.find((r) => r.name === 'drift_psi');
  assert.deepEqual(psi, { name: 'drift_psi', kind: 'drift', enabled: true, stat: 'psi', threshold: 0.3, windows: 5, minRows: 100 });
  assert.equal(config.rules.find((r) => r.name === 'latency_p95')?.enabled, false);
  assert.equal(DEFAULT_ALERTS.rules.find((r) => r.name === 'drift_psi')?.threshold, 0.25, 'the defaults are not changed');
});

test("a new rule names its kind and starts from that kind's default", () => {
  const config = parse({ rules: { quality_f1: { kind: 'quality', metric: 'macro_f1', threshold: 0.7 } } });
  assert.deepEqual(config.rules.at(-1), {
    name: 'quality_f1',
    kind: 'quality',
    enabled: true,
    metric: 'macro_f1',
    threshold: 0.7,
    windows: 1,
    minLabelled: 50,
  });
});

test('invalid files are refused with the file and the field', () => {
  rejects('{ "rules": ', /^\/project\/mlops-alerts\.json: not valid JSON/);
  rejects([], /must be a JSON object/);
  rejects({ interval: 3 }, /mlops-alerts\.json: interval: unknown field/);
  rejects({ intervalSec: 0 }, /intervalSec: must be a number from 1 to 86400, got 0/);
  rejects({ rules: [] }, /rules: must be an object/);
  rejects({ rules: { 'Bad-Name': {} } }, /rules\.Bad-Name: a rule name is lower case/);
  rejects({ rules: { mine: { threshold: 1 } } }, /rules\.mine\.kind: required for a new rule/);
  rejects({ rules: { mine: { kind: 'cpu' } } }, /rules\.mine\.kind: must be one of drift, quality, error_rate, latency, got "cpu"/);
  rejects({ rules: { drift_psi: { kind: 'latency' } } }, /rules\.drift_psi\.kind: "drift_psi" is a drift rule/);
  rejects({ rules: { drift_psi: { threshold: '0.3' } } }, /rules\.drift_psi\.threshold: must be a number from 0 .*, got "0.3"/);
  rejects({ rules: { drift_psi: { windows: 1.5 } } }, /rules\.drift_psi\.windows: must be a whole number from 1/);
  rejects({ rules: { drift_psi: { stat: 'js' } } }, /rules\.drift_psi\.stat: must be one of psi, ks, got "js"/);
  rejects({ rules: { drift_psi: { minLabelled: 3 } } }, /rules\.drift_psi\.minLabelled: unknown field for a drift rule/);
  rejects({ rules: { error_rate: { enabled: 'no' } } }, /rules\.error_rate\.enabled: must be true or false/);
});
