import type { ModelVersion } from '../contract';
import { errors } from '../errors';
import { signatureProblems } from '../signature';
import { checkName } from './names';

/** What a new version is registered from: the stored version's own fields, derived from it so the two cannot drift. */
export interface NewVersion extends Pick<ModelVersion, 'model' | 'signature' | 'metrics' | 'params' | 'lineage' | 'reference'> {
  /** The ONNX file to copy into the registry. */
  onnxFile: string;
}

/** What every backend checks before registering: a valid name and a consistent signature. */
export function checkNewVersion(req: NewVersion): void {
  checkName('model name', req.model);
  const problems = signatureProblems(req.signature);
  if (problems.length > 0) throw errors.badSignature(req.model, problems);
}
