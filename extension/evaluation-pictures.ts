import path from 'node:path';
import type { ModelTask } from '../common/contract';

/**
 * The evaluation pictures the pipelines write into a run's artifacts, in the order the metrics
 * webview shows them: each task has its own, the loss curve goes with any task that trained one.
 */
const PICTURES: { name: string; caption: string; task: ModelTask | null }[] = [
  { name: 'confusion_matrix.svg', caption: 'Confusion matrix (test split)', task: 'classification' },
  { name: 'predicted_vs_actual.svg', caption: 'Predicted vs actual (test split)', task: 'regression' },
  { name: 'residuals.svg', caption: 'Residuals (test split)', task: 'regression' },
  { name: 'loss_curve.svg', caption: 'Validation loss per iteration', task: null },
];

export interface Picture {
  /** The artifact's name as the run recorded it (relative to its artifacts folder). */
  artifact: string;
  name: string;
  caption: string;
}

/** The pictures of `task` among a run's recorded artifacts (matched by file name, at any depth). */
export function evaluationPictures(task: ModelTask, artifacts: string[]): Picture[] {
  return PICTURES.filter((p) => p.task === null || p.task === task).flatMap((p) => {
    const artifact = artifacts.find((a) => a === p.name || a.endsWith(`/${p.name}`));
    return artifact ? [{ artifact, name: p.name, caption: p.caption }] : [];
  });
}

/** The file of an artifact, or null when its recorded name would lead out of the artifacts folder. */
export function artifactFile(runDir: string, artifact: string): string | null {
  const dir = path.join(runDir, 'artifacts');
  const file = path.resolve(dir, artifact);
  const rel = path.relative(dir, file);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? null : file;
}

/** True when `file` is `root` or inside it: what a webview's localResourceRoots let it load. */
export function isInside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return !rel.startsWith('..') && !path.isAbsolute(rel);
}
