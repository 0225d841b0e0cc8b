import { param } from '../sdk/params';
import type { StepContext } from '../sdk/pipeline';
import { EVALUATION } from './dataset';
import type { Evaluation } from './evaluate';

export interface GateThresholds {
  minAccuracy: number;
  minMacroF1: number;
  /** Bias check in the spirit of the original template: best minus worst per-class recall. */
  maxRecallGap: number;
  /** Over-fitting check: train accuracy minus test accuracy. */
  maxOverfitGap: number;
  /** Regression: lowest test R² accepted. Optional so that pipelines written before regression keep compiling. */
  minR2?: number;
  /** Regression: largest test RMSE accepted; 0 (the default) sets no limit, as RMSE is in the target's unit. */
  maxRmse?: number;
}

/** The gate's thresholds as pipeline params, with the defaults the examples use; each task reads its own. */
export const gateParams = {
  minAccuracy: param.number(0.9, { min: 0, max: 1, help: 'classification: lowest test accuracy accepted' }),
  minMacroF1: param.number(0.85, { min: 0, max: 1, help: 'classification: lowest test macro F1 accepted' }),
  maxRecallGap: param.number(0.25, { min: 0, max: 1, help: 'classification: largest gap between the best and worst per-class recall' }),
  maxOverfitGap: param.number(0.1, { min: 0, max: 1, help: 'classification: largest train accuracy minus test accuracy' }),
  minR2: param.number(0.5, { min: -1e9, max: 1, help: 'regression: lowest test R² accepted' }),
  maxRmse: param.number(0, { min: 0, help: "regression: largest test RMSE accepted, in the target's unit (0: no limit)" }),
};

/** The gate's checks, as the model card reads them. */
export const GATE_FILE = 'gate.json';

/** One threshold check of a gate: the import's gate (pipeline/import/gate.ts) uses the same. */
export interface Check {
  name: string;
  value: number;
  ok: boolean;
  rule: string;
}

export const atLeast = (name: string, value: number, min: number): Check => ({ name, value, ok: value >= min, rule: `>= ${min}` });
const atMost = (name: string, value: number, max: number): Check => ({ name, value, ok: value <= max, rule: `<= ${max}` });

function checksOf(e: Evaluation, t: GateThresholds): Check[] {
  if (e.task === 'regression') {
    const checks = [atLeast('r2', e.test.r2, t.minR2 ?? gateParams.minR2.default)];
    if (t.maxRmse) checks.push(atMost('rmse', e.test.rmse, t.maxRmse));
    return checks;
  }
  return [
    atLeast('accuracy', e.test.accuracy, t.minAccuracy),
    atLeast('macro_f1', e.test.macroF1, t.minMacroF1),
    atMost('recall_gap', e.recallGap, t.maxRecallGap),
    atMost('overfit_gap', e.trainAccuracy - e.test.accuracy, t.maxOverfitGap),
  ];
}

/** Acceptance tests before anything reaches the registry; a failed check rejects the run (exit 3). */
export function gate(ctx: StepContext<unknown>, t: GateThresholds): void {
  const e = ctx.artifacts.readJson<Evaluation>(EVALUATION);
  const checks = checksOf(e, t);
  ctx.artifacts.writeJson(GATE_FILE, checks);
  for (const c of checks) ctx.log(`${c.ok ? 'pass' : 'FAIL'} ${c.name} = ${c.value.toFixed(4)} (must be ${c.rule})`);
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) ctx.reject(failed.map((c) => `${c.name} ${c.value.toFixed(4)} is not ${c.rule}`));
}
