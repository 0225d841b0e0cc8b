import type { FastifyInstance } from 'fastify';
import type { FeedbackEntry, FeedbackResponse, ModelSignature } from '../../common/contract';
import { errors, type FeedbackProblem } from '../../common/errors';
import type { Registry } from '../../common/registry';
import type { LiveQualityTracker } from '../live-quality';
import type { FeedbackLookup, FeedbackToStore, PredictionLog } from '../prediction-log';

export interface FeedbackOptions {
  log: PredictionLog | null;
  registry: Registry;
  quality: LiveQualityTracker;
  /** Entries per request (MLOPS_MAX_ROWS, the /predict bound). */
  maxEntries: number;
}

/**
 * POST /feedback: ground truth for logged predictions, joined by request id and row. The batch is
 * all or nothing: any unknown key, foreign label or conflict refuses it whole (the answer names
 * every refused entry in `details.problems`), so a client can fix and resend it as it is.
 *
 * Two trips to the prediction log's writer thread, neither on the event loop: a lookup (after
 * committing the rows queued before it) and the store, one transaction that re-checks each key for
 * a label stored meanwhile. Between them, the labels are checked here against the registry's
 * signature of the version that answered.
 */
export async function feedbackRoutes(app: FastifyInstance, o: FeedbackOptions): Promise<void> {
  // Versions never change once registered: their signatures are read once.
  const signatures = new Map<string, ModelSignature | null>();
  const signatureOf = (model: string, version: number): ModelSignature | null => {
    const k = `${model}\u0000${version}`;
    if (!signatures.has(k)) {
      let signature: ModelSignature | null = null;
      try {
        signature = o.registry.models.version(model, version).signature;
      } catch {
        // deleted since: the label is checked against the prediction alone
      }
      signatures.set(k, signature);
    }
    return signatures.get(k)!;
  };

  app.post(
    '/feedback',
    {
      schema: {
        tags: ['feedback'],
        summary: 'Ground truth for logged predictions',
        description:
          'A JSON list of `{"requestId": "<x-request-id of the prediction>", "row": 0, "actual": "Setosa"}` (a number for ' +
          'regression). Each entry labels the row of a logged prediction. Labels already stored alike count as `duplicates`; ' +
          'a different label for a labelled row is a 409. Unknown ids or rows and labels the model does not know are a 422 ' +
          'naming each entry (`details.problems`); nothing is stored then. Needs the prediction log.',
        body: {
          type: 'array',
          minItems: 1,
          maxItems: o.maxEntries,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['requestId', 'row', 'actual'],
            properties: {
              requestId: { type: 'string', minLength: 1, maxLength: 128 },
              row: { type: 'integer', minimum: 0 },
              actual: { type: ['string', 'number'], maxLength: 1000 },
            },
          },
        },
      },
    },
    async (request): Promise<FeedbackResponse> => {
      if (!o.log) throw errors.predictionLogOff('feedback');
      const entries = request.body as FeedbackEntry[];
      const found = await o.log.lookupFeedback(entries.map(({ requestId, row }) => ({ requestId, row })));
      const problems: FeedbackProblem[] = [];
      const toStore: FeedbackToStore[] = [];
      entries.forEach((e, index) => {
        const checked = check(e, found[index], signatureOf);
        if (typeof checked === 'string') problems.push({ index, requestId: e.requestId, row: e.row, reason: checked });
        else toStore.push({ index, requestId: e.requestId, row: e.row, ...checked });
      });
      if (problems.length > 0) {
        o.quality.feedback.inc({ outcome: 'rejected' }, entries.length);
        throw errors.badFeedback(problems);
      }
      const stored = await o.log.storeFeedback(Date.now(), toStore);
      if (stored.conflicts.length > 0) {
        o.quality.feedback.inc({ outcome: 'rejected' }, entries.length);
        throw errors.feedbackConflict(
          stored.conflicts.map(({ index, requestId, row, stored: was }) => ({
            index,
            requestId,
            row,
            reason: `already labelled ${JSON.stringify(was)}, not ${JSON.stringify(toStore.find((s) => s.index === index)?.actual)}`,
          })),
        );
      }
      const now = Date.now();
      for (const index of stored.accepted) {
        const answer = answered(found[index]);
        o.quality.labelDelay.observe({ model: answer.model }, Math.max(0, now - answer.at) / 1000);
      }
      o.quality.feedback.inc({ outcome: 'accepted' }, stored.accepted.length);
      o.quality.feedback.inc({ outcome: 'duplicate' }, stored.duplicates);
      return { accepted: stored.accepted.length, duplicates: stored.duplicates };
    },
  );
}

/** The prediction the caller got (not a challenger's shadow one), the first when an id was reused. */
function answered(lookup: FeedbackLookup): FeedbackLookup['matches'][number] {
  return lookup.matches.find((m) => !m.shadow) ?? lookup.matches[0];
}

/** The label as stored, with its prediction's time, or why it is refused. */
function check(
  e: FeedbackEntry,
  lookup: FeedbackLookup,
  signatureOf: (model: string, version: number) => ModelSignature | null,
): { actual: string | number; predictionAt: number } | string {
  if (lookup.matches.length === 0) {
    return lookup.requestRows === 0
      ? 'no logged prediction has this request id (the x-request-id of the /predict answer)'
      : `request has ${lookup.requestRows} row${lookup.requestRows === 1 ? '' : 's'} (0 to ${lookup.requestRows - 1})`;
  }
  const answer = answered(lookup);
  const version = `${answer.model} v${answer.version}`;
  const signature = signatureOf(answer.model, answer.version);
  const classification = signature ? signature.task === 'classification' : typeof answer.predicted === 'string';
  if (classification) {
    const label = String(e.actual);
    if (signature?.task === 'classification' && !signature.classLabels.includes(label)) {
      return `${JSON.stringify(label)} is not a class of ${version} (${signature.classLabels.join(', ')})`;
    }
    return { actual: label, predictionAt: answer.at };
  }
  if (signature?.task === 'regression' && signature.targets.length !== 1) {
    return `${version} predicts ${signature.targets.length} targets; feedback labels one`;
  }
  // A CSV import sends what it read: a numeric string is the number.
  const value = typeof e.actual === 'number' ? e.actual : e.actual.trim() === '' ? NaN : Number(e.actual);
  if (!Number.isFinite(value)) return `${version} is a regression: actual must be a finite number, got ${JSON.stringify(e.actual)}`;
  return { actual: value, predictionAt: answer.at };
}
