// Trainer parameters, their defaults (scikit-learn's HistGradientBoosting* and RandomForest* ones, so that
// comparisons at the defaults are like for like) and their checks: a bad value is a one-line usage error
// raised before anything is trained.
import { errors } from '../../../common/errors';
import { MAX_BINS } from './binning';

export interface ProgressReport {
  /** 1-based iteration (boosting) or tree (forest) just fitted, of `total`. */
  iteration: number;
  total: number;
  trainLoss: number | null;
  validationLoss: number | null;
}

export interface TrainHooks {
  /** Called after each iteration or tree; it may throw to stop training (a cancelled run). */
  onProgress?: (p: ProgressReport) => void;
}

export interface BoostingParams {
  maxIter: number;
  learningRate: number;
  maxLeafNodes: number;
  /** null: no depth limit (leaves only). */
  maxDepth: number | null;
  minSamplesLeaf: number;
  l2: number;
  maxBins: number;
  /** 'auto' holds out a validation split and stops early when there are more than 10 000 rows. */
  earlyStopping: 'auto' | 'on' | 'off';
  validationFraction: number;
  nIterNoChange: number;
  tol: number;
  seed: number;
}

export const BOOSTING_DEFAULTS: BoostingParams = {
  maxIter: 100,
  learningRate: 0.1,
  maxLeafNodes: 31,
  maxDepth: null,
  minSamplesLeaf: 20,
  l2: 0,
  maxBins: 255,
  earlyStopping: 'auto',
  validationFraction: 0.1,
  nIterNoChange: 10,
  tol: 1e-7,
  seed: 0,
};

export interface ForestParams {
  nEstimators: number;
  maxDepth: number | null;
  minSamplesLeaf: number;
  /** Features tried per split: 'sqrt' of them, a fraction in (0, 1], or a count ≥ 1 given as an integer > 1. null: all. */
  maxFeatures: number | 'sqrt' | null;
  bootstrap: boolean;
  maxBins: number;
  seed: number;
}

export const FOREST_DEFAULTS: Omit<ForestParams, 'maxFeatures'> = {
  nEstimators: 100,
  maxDepth: null,
  minSamplesLeaf: 1,
  bootstrap: true,
  maxBins: 255,
  seed: 0,
};

/** Upper bounds that keep one run's memory and time sane; they are far above useful values. */
export const LIMITS = { maxIter: 10_000, nEstimators: 1000, maxLeafNodes: 4096, maxDepth: 64 };

function intIn(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw errors.badParamValue(name, `an integer in ${min}..${max}`, String(v));
}

function depthOk(v: number | null): void {
  if (v !== null) intIn('maxDepth', v, 1, LIMITS.maxDepth);
}

export function checkBoostingParams(p: BoostingParams): void {
  intIn('maxIter', p.maxIter, 1, LIMITS.maxIter);
  if (!(p.learningRate > 0) || !Number.isFinite(p.learningRate))
    throw errors.badParamValue('learningRate', 'a number > 0', String(p.learningRate));
  intIn('maxLeafNodes', p.maxLeafNodes, 2, LIMITS.maxLeafNodes);
  depthOk(p.maxDepth);
  intIn('minSamplesLeaf', p.minSamplesLeaf, 1, 1e9);
  if (!(p.l2 >= 0) || !Number.isFinite(p.l2)) throw errors.badParamValue('l2', 'a number ≥ 0', String(p.l2));
  intIn('maxBins', p.maxBins, 2, MAX_BINS);
  if (!(p.validationFraction > 0 && p.validationFraction < 1)) {
    throw errors.badParamValue('validationFraction', 'a number between 0 and 1 (exclusive)', String(p.validationFraction));
  }
  intIn('nIterNoChange', p.nIterNoChange, 1, LIMITS.maxIter);
  intIn('seed', p.seed, -(2 ** 31), 2 ** 32 - 1);
}

export function checkForestParams(p: ForestParams): void {
  intIn('nEstimators', p.nEstimators, 1, LIMITS.nEstimators);
  depthOk(p.maxDepth);
  intIn('minSamplesLeaf', p.minSamplesLeaf, 1, 1e9);
  intIn('maxBins', p.maxBins, 2, MAX_BINS);
  const f = p.maxFeatures;
  if (typeof f === 'number' && !(f > 0 && (f <= 1 || Number.isInteger(f)))) {
    throw errors.badParamValue('maxFeatures', "a fraction in (0, 1], a whole count, or 'sqrt'", String(f));
  }
  intIn('seed', p.seed, -(2 ** 31), 2 ** 32 - 1);
}

/** The feature count a maxFeatures setting means for nFeatures features. */
export function featuresPerSplit(maxFeatures: ForestParams['maxFeatures'], nFeatures: number): number {
  if (maxFeatures === null) return nFeatures;
  const n = maxFeatures === 'sqrt' ? Math.sqrt(nFeatures) : maxFeatures <= 1 ? maxFeatures * nFeatures : maxFeatures;
  return Math.min(nFeatures, Math.max(1, Math.floor(n)));
}
