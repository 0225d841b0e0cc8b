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
}

/** The gate's thresholds as pipeline params, with the defaults the examples use. */
export const gateParams = {
  minAccuracy: param.number(0.9, { min: 0, max: 1, help: 'lowest test accuracy accepted' }),
  minMacroF1: param.number(0.85, { min: 0, max: 1, help: 'lowest test macro F1 accepted' }),
  maxRecallGap: param.number(0.25, { min: 0, max: 1, help: 'largest gap between the best and worst per-class recall' }),
  maxOverfitGap: param.number(0.1, { min: 0, max: 1, help: 'largest train accuracy minus test accuracy' }),
};

/** Acceptance tests before anything reaches the registry; a failed check rejects the run (exit 2). */
export function gate(ctx: StepContext<unknown>, t: GateThresholds): void {
  const e = ctx.artifacts.readJson<Evaluation>(EVALUATION);
  const checks = [
    { name: 'accuracy', value: e.test.accuracy, ok: e.test.accuracy >= t.minAccuracy, rule: `>= ${t.minAccuracy}` },
    { name: 'macro_f1', value: e.test.macroF1, ok: e.test.macroF1 >= t.minMacroF1, rule: `>= ${t.minMacroF1}` },
    { name: 'recall_gap', value: e.recallGap, ok: e.recallGap <= t.maxRecallGap, rule: `<= ${t.maxRecallGap}` },
    {
      name: 'overfit_gap',
      value: e.trainAccuracy - e.test.accuracy,
      ok: e.trainAccuracy - e.test.accuracy <= t.maxOverfitGap,
      rule: `<= ${t.maxOverfitGap}`,
    },
  ];
  ctx.artifacts.writeJson('gate.json', checks);
  for (const c of checks) ctx.log(`${c.ok ? 'pass' : 'FAIL'} ${c.name} = ${c.value.toFixed(4)} (must be ${c.rule})`);
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) ctx.reject(failed.map((c) => `${c.name} ${c.value.toFixed(4)} is not ${c.rule}`));
}
