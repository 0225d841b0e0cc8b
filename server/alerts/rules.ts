import type { AlertKind } from '../../common/contract';
import { errors } from '../../common/errors';

/** Drift statistics a rule compares: the largest PSI (any feature) or KS (numeric features) over the drift window. */
export type DriftStat = 'psi' | 'ks';
/** Live-quality figures a rule compares: accuracy and macro F1 fire below, MAE and RMSE above the threshold. */
export type QualityMetric = 'accuracy' | 'macro_f1' | 'mae' | 'rmse';

interface RuleBase {
  name: string;
  kind: AlertKind;
  enabled: boolean;
  threshold: number;
  /** Consecutive evaluations past the threshold before the rule fires (one that is not resolves it). */
  windows: number;
}
export type AlertRule =
  | (RuleBase & { kind: 'drift'; stat: DriftStat; minRows: number })
  | (RuleBase & { kind: 'quality'; metric: QualityMetric; minLabelled: number })
  | (RuleBase & { kind: 'error_rate'; minRequests: number })
  /** The 95th percentile of /predict and OIP infer latency, milliseconds. */
  | (RuleBase & { kind: 'latency'; minRequests: number });

export interface AlertsConfig {
  /** Seconds between evaluations: one evaluation window. */
  intervalSec: number;
  rules: AlertRule[];
}

/** The defaults (README "Alerts"); a project's alerts file overrides them rule by rule. */
export const DEFAULT_ALERTS: AlertsConfig = {
  intervalSec: 10,
  rules: [
    { name: 'drift_psi', kind: 'drift', enabled: true, stat: 'psi', threshold: 0.25, windows: 3, minRows: 100 },
    { name: 'drift_ks', kind: 'drift', enabled: true, stat: 'ks', threshold: 0.2, windows: 3, minRows: 100 },
    { name: 'quality_accuracy', kind: 'quality', enabled: true, metric: 'accuracy', threshold: 0.8, windows: 1, minLabelled: 50 },
    { name: 'error_rate', kind: 'error_rate', enabled: true, threshold: 0.05, windows: 2, minRequests: 20 },
    { name: 'latency_p95', kind: 'latency', enabled: true, threshold: 250, windows: 3, minRequests: 20 },
  ],
};

/** Quality scores (accuracy, macro F1) breach by falling below the threshold; errors, drift and latency by rising above. */
export function firesBelow(rule: AlertRule): boolean {
  return rule.kind === 'quality' && (rule.metric === 'accuracy' || rule.metric === 'macro_f1');
}

export function breaches(rule: AlertRule, value: number): boolean {
  return firesBelow(rule) ? value < rule.threshold : value > rule.threshold;
}

const RULE_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const KINDS: AlertKind[] = ['drift', 'quality', 'error_rate', 'latency'];
/** The fields each kind accepts besides kind, enabled, threshold and windows. */
const FIELDS: Record<AlertKind, string[]> = {
  drift: ['stat', 'minRows'],
  quality: ['metric', 'minLabelled'],
  error_rate: ['minRequests'],
  latency: ['minRequests'],
};
/** What a rule of a kind starts from when the file adds one of its own. */
const TEMPLATES: Record<AlertKind, AlertRule> = Object.fromEntries(
  KINDS.map((kind) => [kind, DEFAULT_ALERTS.rules.find((r) => r.kind === kind)!]),
) as Record<AlertKind, AlertRule>;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (v: unknown) => JSON.stringify(v);

/**
 * The alerts file (JSON): `{ "intervalSec": 10, "rules": { "drift_psi": { "threshold": 0.3 }, "my_rule": { "kind": … } } }`.
 * A rule named like a default changes only the fields given; another name adds a rule (its `kind` is required).
 * Throws ALERTS_CONFIG naming the file and the field.
 */
export function parseAlertsConfig(text: string, file: string): AlertsConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw errors.alertsConfig(file, '', `not valid JSON (${(err as Error).message})`);
  }
  const fail = (where: string, problem: string) => errors.alertsConfig(file, where, problem);
  if (!isObject(raw)) throw fail('', 'must be a JSON object with "intervalSec" and/or "rules"');
  for (const key of Object.keys(raw))
    if (key !== 'intervalSec' && key !== 'rules') throw fail(key, 'unknown field (known: intervalSec, rules)');
  const config: AlertsConfig = { intervalSec: DEFAULT_ALERTS.intervalSec, rules: DEFAULT_ALERTS.rules.map((r) => ({ ...r })) };
  if (raw.intervalSec !== undefined) config.intervalSec = numberField(raw.intervalSec, 'intervalSec', 1, 86_400, fail);
  if (raw.rules === undefined) return config;
  if (!isObject(raw.rules)) throw fail('rules', 'must be an object of rule name → rule');
  for (const [name, body] of Object.entries(raw.rules)) {
    const where = `rules.${name}`;
    if (!RULE_NAME.test(name)) throw fail(where, 'a rule name is lower case letters, digits and _, starting with a letter');
    if (!isObject(body)) throw fail(where, `must be an object, got ${shown(body)}`);
    const existing = config.rules.find((r) => r.name === name);
    const kind = body.kind ?? existing?.kind;
    if (kind === undefined) throw fail(`${where}.kind`, `required for a new rule (one of ${KINDS.join(', ')})`);
    if (!KINDS.includes(kind as AlertKind)) throw fail(`${where}.kind`, `must be one of ${KINDS.join(', ')}, got ${shown(kind)}`);
    if (existing && kind !== existing.kind) throw fail(`${where}.kind`, `"${name}" is a ${existing.kind} rule; name a new rule instead`);
    const rule = { ...(existing ?? TEMPLATES[kind as AlertKind]), name } as AlertRule & Json;
    applyFields(rule, body, where, fail);
    if (existing) config.rules[config.rules.indexOf(existing)] = rule;
    else config.rules.push(rule);
  }
  return config;
}

type Fail = (where: string, problem: string) => Error;

function applyFields(rule: AlertRule & Json, body: Json, where: string, fail: Fail): void {
  const known = ['kind', 'enabled', 'threshold', 'windows', ...FIELDS[rule.kind]];
  for (const [key, value] of Object.entries(body)) {
    const at = `${where}.${key}`;
    if (!known.includes(key)) throw fail(at, `unknown field for a ${rule.kind} rule (known: ${known.join(', ')})`);
    if (key === 'kind') continue;
    if (key === 'enabled') {
      if (typeof value !== 'boolean') throw fail(at, `must be true or false, got ${shown(value)}`);
      rule.enabled = value;
    } else if (key === 'stat') rule[key] = oneOf(value, ['psi', 'ks'], at, fail);
    else if (key === 'metric') rule[key] = oneOf(value, ['accuracy', 'macro_f1', 'mae', 'rmse'], at, fail);
    else if (key === 'threshold') rule[key] = numberField(value, at, 0, Number.MAX_VALUE, fail);
    else rule[key] = Math.trunc(numberField(value, at, 1, 1_000_000, fail, true));
  }
}

function numberField(value: unknown, where: string, min: number, max: number, fail: Fail, whole = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!whole || Number.isInteger(value));
  if (!ok) throw fail(where, `must be a ${whole ? 'whole ' : ''}number from ${min} to ${max}, got ${shown(value)}`);
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: T[], where: string, fail: Fail): T {
  if (!allowed.includes(value as T)) throw fail(where, `must be one of ${allowed.join(', ')}, got ${shown(value)}`);
  return value as T;
}
