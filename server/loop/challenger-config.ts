import type { ChallengerMode } from '../../common/contract';
import { errors } from '../../common/errors';
import { checkAlias } from '../../common/registry/names';

/** The challenger's settings (README "Challenger: shadow and canary", docs/challenger.md). */
export interface ChallengerSettings {
  /** MLOPS_CHALLENGER_ALIAS, default "challenger". */
  alias: string;
  /** MLOPS_CHALLENGER_MODE, default shadow; changed at runtime by PUT /api/challenger. */
  mode: ChallengerMode;
  /** MLOPS_CHALLENGER_SHARE: default 1 in shadow (every request), 0.1 in canary. */
  share: number;
  /** When a canary is stopped automatically (back to shadow). */
  canary: {
    /** MLOPS_CANARY_MAX_ERROR_RATE, default 0.05: failed canary answers over canary answers. */
    maxErrorRate: number;
    /** MLOPS_CANARY_MIN_REQUESTS, default 20: canary answers before the error rate counts. */
    minRequests: number;
    /** MLOPS_CANARY_MAX_QUALITY_DROP, default 0.05: live accuracy below the champion's (or MAE above it, relative). */
    maxQualityDrop: number;
    /** MLOPS_CANARY_MIN_LABELLED, default 50: labelled predictions of each version before quality counts. */
    minLabelled: number;
  };
}

export function loadChallengerSettings(env: NodeJS.ProcessEnv): ChallengerSettings {
  const number = (name: string, fallback: number, min: number, max = Infinity): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw errors.badOption(name, `a number from ${min} to ${max}`, raw);
    return n;
  };
  const mode = env.MLOPS_CHALLENGER_MODE || 'shadow';
  if (mode !== 'shadow' && mode !== 'canary') throw errors.badOption('MLOPS_CHALLENGER_MODE', 'shadow or canary', mode);
  return {
    alias: checkAlias(env.MLOPS_CHALLENGER_ALIAS || 'challenger'),
    mode,
    share: number('MLOPS_CHALLENGER_SHARE', mode === 'shadow' ? 1 : 0.1, 0, 1),
    canary: {
      maxErrorRate: number('MLOPS_CANARY_MAX_ERROR_RATE', 0.05, 0, 1),
      minRequests: number('MLOPS_CANARY_MIN_REQUESTS', 20, 1),
      maxQualityDrop: number('MLOPS_CANARY_MAX_QUALITY_DROP', 0.05, 0),
      minLabelled: number('MLOPS_CANARY_MIN_LABELLED', 50, 1),
    },
  };
}
