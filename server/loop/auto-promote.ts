import type { FastifyBaseLogger } from 'fastify';
import type { ChallengerInfo, LiveQuality } from '../../common/contract';
import { errors } from '../../common/errors';
import type { Registry } from '../../common/registry';
import type { ServedModel } from '../serving/model-holder';

/** MLOPS_AUTO_PROMOTE: the challenger's live figure at least as good as the champion's, both over `minLabelled` labels. */
export interface AutoPromoteRule {
  metric: 'accuracy' | 'macro_f1' | 'mae' | 'rmse';
  minLabelled: number;
}

const FORMAT = 'live_<accuracy|macro_f1|mae|rmse>:<labelled rows>, e.g. live_accuracy:200';

/** Unset or empty: never (a person promotes). */
export function parseAutoPromote(raw: string | undefined): AutoPromoteRule | null {
  if (raw === undefined || raw.trim() === '') return null;
  const m = /^live_(accuracy|macro_f1|mae|rmse):([1-9]\d{0,6})$/.exec(raw.trim());
  if (!m) throw errors.badOption('MLOPS_AUTO_PROMOTE', FORMAT, raw);
  return { metric: m[1] as AutoPromoteRule['metric'], minLabelled: Number(m[2]) };
}

function figure(q: LiveQuality, metric: AutoPromoteRule['metric']): number | undefined {
  const c = q.classification;
  const r = q.regression;
  return { accuracy: c?.accuracy, macro_f1: c?.macroF1, mae: r?.mae, rmse: r?.rmse }[metric];
}

/**
 * Why the challenger may be promoted under the rule, or null while it may not: both versions need
 * `minLabelled` labelled predictions, and the challenger's figure must be at least as good (accuracy
 * and macro F1 higher or equal, MAE and RMSE lower or equal).
 */
export function autoPromoteReason(rule: AutoPromoteRule, champion: LiveQuality | null, challenger: LiveQuality | null): string | null {
  if (!champion || !challenger) return null;
  if (champion.labelled < rule.minLabelled || challenger.labelled < rule.minLabelled) return null;
  const mine = figure(challenger, rule.metric);
  const theirs = figure(champion, rule.metric);
  if (mine === undefined || theirs === undefined) return null;
  const better = rule.metric === 'accuracy' || rule.metric === 'macro_f1' ? mine >= theirs : mine <= theirs;
  if (!better) return null;
  const sign = rule.metric === 'accuracy' || rule.metric === 'macro_f1' ? '≥' : '≤';
  const over = `over ${challenger.labelled} and ${champion.labelled} labelled rows`;
  return `live ${rule.metric} ${mine.toFixed(4)} ${sign} champion's ${theirs.toFixed(4)} ${over}`;
}

export interface AutoPromoterOptions {
  rule: AutoPromoteRule;
  registry: Registry;
  champion: () => ServedModel | null;
  challenger: () => ChallengerInfo | null;
  quality: (model: string, version: number) => LiveQuality | null;
  /** Aliases moved by this server (see RetrainOptions.aliasesMoved). */
  aliasesMoved: () => void;
  log: FastifyBaseLogger;
}

/** A check to call periodically: promotes the challenger once the rule holds, as POST /api/challenger/promote would. */
export function autoPromoter(o: AutoPromoterOptions): () => void {
  // Called every second; a promotion still being written is not started again.
  let promoting = false;
  return () => {
    if (promoting) return;
    const champion = o.champion();
    const challenger = o.challenger();
    if (!champion || !challenger) return;
    const model = champion.info.model;
    const reason = autoPromoteReason(o.rule, o.quality(model, champion.info.version), o.quality(model, challenger.serving.version));
    if (!reason) return;
    const selector = champion.info.selector;
    const to = typeof selector === 'string' && selector !== 'latest' ? selector : 'production';
    promoting = true;
    o.registry.models
      .promoteFrom(model, challenger.alias, to, `auto-promote (MLOPS_AUTO_PROMOTE): ${reason}`.slice(0, 200))
      .then(
        () => {
          o.log.info(`auto-promote: ${model}@${to} is version ${challenger.serving.version}: ${reason}`);
          o.aliasesMoved();
        },
        (err: unknown) => o.log.warn(`auto-promote: ${(err as Error).message}`),
      )
      .finally(() => (promoting = false));
  };
}
