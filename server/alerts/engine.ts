import type { AlertState, DriftSnapshot, LiveQuality } from '../../common/contract';
import { ServingStatsCollector } from '../monitoring/serving-stats';
import { breaches, firesBelow, type AlertRule, type AlertsConfig } from './rules';

/** What the rules read: the served version's drift window and live quality (null: nothing served, or no feedback). */
export interface AlertInputs {
  drift(): DriftSnapshot | null;
  quality(): LiveQuality | null;
}

/** One rule's reading at an evaluation: the value compared, and how to say it; null when there is too little data. */
interface Reading {
  value: number;
  /** E.g. "PSI of petal_length 0.31", "live accuracy 0.62". */
  what: string;
  /** E.g. "over 60 labelled rows". */
  over: string;
}

const fixed = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3).replace(/\.?0+$/, ''));

/**
 * Evaluates the alert rules once per window (AlertsConfig.intervalSec): a rule fires after `windows`
 * consecutive evaluations past its threshold and resolves at the first one that is not, or when there
 * is too little data to say. Every start and stop goes to `onChange`; request outcomes come from
 * `request()` (the server's onResponse hook for /predict and infer routes).
 */
export class AlertEngine {
  private config: AlertsConfig;
  private readonly states = new Map<string, AlertState>();
  private readonly streaks = new Map<string, number>();
  private readonly requests = new ServingStatsCollector();
  private lastTotals = { requests: 0, errors: 0 };
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly inputs: AlertInputs,
    config: AlertsConfig,
    private readonly onChange: (state: AlertState) => void,
  ) {
    this.config = config;
    this.reset(config);
  }

  /** Every enabled rule's state, firing or not, in the order of the config. */
  list(): AlertState[] {
    return [...this.states.values()].map((s) => ({ ...s }));
  }

  request(latencyMs: number, ok: boolean): void {
    this.requests.request(latencyMs, ok);
  }

  /** New rules (the alerts file changed): rules kept keep their state; a firing rule that is gone or disabled resolves. */
  setConfig(config: AlertsConfig): void {
    const kept = new Set(config.rules.filter((r) => r.enabled).map((r) => r.name));
    for (const state of this.states.values()) {
      if (state.firing && !kept.has(state.rule)) this.onChange({ ...state, firing: false, message: 'resolved: the rule was removed' });
    }
    this.reset(config);
    if (this.timer) this.start();
  }

  start(): void {
    this.stop();
    this.timer = setInterval(() => this.evaluate(), this.config.intervalSec * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One evaluation window; returns the rules that started or stopped firing. */
  evaluate(now = new Date()): AlertState[] {
    const window = this.requests.tick();
    const counts = { requests: window.totalRequests - this.lastTotals.requests, errors: window.totalErrors - this.lastTotals.errors };
    this.lastTotals = { requests: window.totalRequests, errors: window.totalErrors };
    const changed: AlertState[] = [];
    for (const rule of this.config.rules) {
      if (!rule.enabled) continue;
      const state = this.states.get(rule.name)!;
      const reading = this.read(rule, counts, window.latencyMs.p95);
      const breach = reading !== null && breaches(rule, reading.value);
      const streak = breach ? (this.streaks.get(rule.name) ?? 0) + 1 : 0;
      this.streaks.set(rule.name, streak);
      state.value = reading?.value ?? null;
      const sign = firesBelow(rule) ? ['<', '≥'] : ['>', '≤'];
      if (reading === null) state.message = 'not enough data';
      else if (breach) {
        const times = rule.windows > 1 ? ` for ${streak} window${streak === 1 ? '' : 's'}` : '';
        state.message = `${reading.what} ${sign[0]} ${fixed(rule.threshold)} ${reading.over}${times}`;
      } else state.message = `${reading.what} ${sign[1]} ${fixed(rule.threshold)} ${reading.over}`;
      const firing = breach && streak >= rule.windows;
      if (firing === state.firing) continue;
      state.firing = firing;
      if (firing) state.since = now.toISOString();
      else state.message = `resolved: ${state.message}`;
      changed.push({ ...state });
      this.onChange({ ...state });
    }
    return changed;
  }

  private read(rule: AlertRule, counts: { requests: number; errors: number }, p95: number): Reading | null {
    const requests = `over ${counts.requests} requests`;
    switch (rule.kind) {
      case 'drift': {
        const drift = this.inputs.drift();
        if (!drift || drift.windowRows < rule.minRows) return null;
        let top: { name: string; value: number } | null = null;
        for (const f of drift.features) {
          const value = rule.stat === 'psi' ? f.psi : f.kind === 'numeric' ? f.ks : null;
          if (value !== null && (top === null || value > top.value)) top = { name: f.name, value };
        }
        if (!top) return null;
        return {
          value: top.value,
          what: `${rule.stat.toUpperCase()} of ${top.name} ${fixed(top.value)}`,
          over: `over ${drift.windowRows} rows`,
        };
      }
      case 'quality': {
        const q = this.inputs.quality();
        if (!q || q.labelled < rule.minLabelled) return null;
        const c = q.classification;
        const r = q.regression;
        const value = { accuracy: c?.accuracy, macro_f1: c?.macroF1, mae: r?.mae, rmse: r?.rmse }[rule.metric];
        if (value === undefined) return null;
        return { value, what: `live ${rule.metric.replace('_', ' ')} ${fixed(value)}`, over: `over ${q.labelled} labelled rows` };
      }
      case 'error_rate': {
        if (counts.requests < rule.minRequests) return null;
        const value = counts.errors / counts.requests;
        return { value, what: `error rate ${fixed(value)} (${counts.errors} failed)`, over: requests };
      }
      case 'latency':
        if (counts.requests < rule.minRequests) return null;
        return { value: p95, what: `p95 latency ${fixed(p95)} ms`, over: requests };
    }
  }

  private reset(config: AlertsConfig): void {
    this.config = config;
    const previous = new Map(this.states);
    this.states.clear();
    for (const rule of config.rules) {
      if (!rule.enabled) continue;
      const old = previous.get(rule.name);
      const keep = old && old.kind === rule.kind;
      this.states.set(rule.name, {
        rule: rule.name,
        kind: rule.kind,
        firing: keep ? old.firing : false,
        since: keep ? old.since : null,
        value: keep ? old.value : null,
        threshold: rule.threshold,
        message: keep ? old.message : 'not evaluated yet',
      });
      if (!keep) this.streaks.delete(rule.name);
    }
  }
}
