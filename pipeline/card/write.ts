// Writes a version's model card at registration: the runner's ctx.register and the import call it
// once the version is committed. The card is derived, so failing to write it does not undo the
// registration: the caller logs a warning, and the server renders the card from the version row.
import type { ModelVersion } from '../../common/contract';
import { errors } from '../../common/errors';
import { ETHICS_QUESTIONS, renderCard, writeModelCard, type CardEvidence, type PipelineCard } from '../../common/model-card';

/** Renders and stores card.md beside the version's model.onnx; returns its path. */
export function writeCardOf(version: ModelVersion, meta: PipelineCard | null, evidence: CardEvidence): string {
  return writeModelCard(version, renderCard({ version, meta, evidence }));
}

const isStringList = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * A pipeline's `card`, checked: a pipeline in JavaScript, or one that skips the type check, gets a
 * message naming the field rather than a card missing what its author wrote.
 */
export function checkPipelineCard(file: string, card: unknown): PipelineCard | null {
  if (card === undefined) return null;
  const bad = (reason: string) => errors.pipelineDefinition(file, `card: ${reason}`);
  if (typeof card !== 'object' || card === null || Array.isArray(card)) throw bad('must be an object');
  const c = card as Record<string, unknown>;
  const known = ['intendedUse', 'limitations', 'groups', 'ethics'];
  const unknown = Object.keys(c).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw bad(`unknown field '${unknown[0]}' (known: ${known.join(', ')})`);
  if (c.intendedUse !== undefined && typeof c.intendedUse !== 'string') throw bad('intendedUse must be a string');
  if (c.limitations !== undefined && typeof c.limitations !== 'string' && !isStringList(c.limitations)) {
    throw bad('limitations must be a string or a list of strings');
  }
  if (c.groups !== undefined && !isStringList(c.groups)) throw bad('groups must be a list of feature names');
  if (c.ethics !== undefined) {
    if (typeof c.ethics !== 'object' || c.ethics === null || Array.isArray(c.ethics)) throw bad('ethics must be an object');
    for (const [key, answer] of Object.entries(c.ethics)) {
      if (!(key in ETHICS_QUESTIONS)) throw bad(`ethics: unknown question '${key}' (known: ${Object.keys(ETHICS_QUESTIONS).join(', ')})`);
      if (typeof answer !== 'string') throw bad(`ethics.${key} must be a string`);
    }
  }
  return c as PipelineCard;
}
