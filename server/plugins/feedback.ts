import type { FastifyInstance } from 'fastify';
import type { FeedbackEntry, FeedbackResponse, ModelSignature } from '../../common/contract';
import { errors, type FeedbackProblem } from '../../common/errors';
import type { Registry } from '../../common/registry';
import type { LiveQualityTracker } from '../monitoring/live-quality';
import type { FeedbackBatch, FeedbackLookup, PredictionLog } from '../prediction-log';

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
  const key = (model: string, version: number) => `${model}\u0000${version}`;
  /** Reads the signatures of the versions `found` names that are not known yet. */
  const loadSignatures = async (found: FeedbackLookup, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      if (found.model[i] < 0) continue;
      const model = found.models[found.model[i]];
      const k = key(model, found.version[i]);
      if (signatures.has(k)) continue;
      let signature: ModelSignature | null = null;
      try {
        signature = (await o.registry.models.version(model, found.version[i])).signature;
      } catch {
        // deleted since: the label is checked against the prediction alone
      }
      signatures.set(k, signature);
    }
  };
  const signatureOf = (model: string, version: number): ModelSignature | null => signatures.get(key(model, version)) ?? null;

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
      const n = entries.length;
      const found = await o.log.lookupFeedback({
        requestIds: entries.map((e) => e.requestId),
        rows: Int32Array.from(entries, (e) => e.row),
      });
      const problems: FeedbackProblem[] = [];
      const batch: FeedbackBatch = {
        index: Int32Array.from(entries, (_, i) => i),
        requestIds: entries.map((e) => e.requestId),
        rows: Int32Array.from(entries, (e) => e.row),
        labels: new Array<string | null>(n).fill(null),
        values: new Float64Array(n),
        predictionAt: Float64Array.from(found.at),
      };
      await loadSignatures(found, n);
      for (let i = 0; i < n; i++) {
        const actual = check(entries[i], found, i, signatureOf);
        if (typeof actual === 'object')
          problems.push({ index: i, requestId: entries[i].requestId, row: entries[i].row, reason: actual.refused });
        else if (typeof actual === 'string') batch.labels[i] = actual;
        else batch.values[i] = actual;
      }
      if (problems.length > 0) {
        o.quality.feedback.inc({ outcome: 'rejected' }, n);
        throw errors.badFeedback(problems);
      }
      const stored = await o.log.storeFeedback(Date.now(), batch);
      if (stored.conflicts.length > 0) {
        o.quality.feedback.inc({ outcome: 'rejected' }, n);
        throw errors.feedbackConflict(
          stored.conflicts.map(({ index, requestId, row, stored: was, byEntry }) => ({
            index,
            requestId,
            row,
            reason:
              `${byEntry === null ? 'already labelled' : `labelled by entry ${byEntry} as`} ${JSON.stringify(was)}, ` +
              `not ${JSON.stringify(entries[index].actual)}`,
          })),
        );
      }
      const now = Date.now();
      const delays = found.models.map((model) => o.quality.labelDelay.labels({ model }));
      for (const i of stored.accepted) delays[found.model[i]].observe(Math.max(0, now - found.at[i]) / 1000);
      o.quality.feedback.inc({ outcome: 'accepted' }, stored.accepted.length);
      o.quality.feedback.inc({ outcome: 'duplicate' }, stored.duplicates);
      return { accepted: stored.accepted.length, duplicates: stored.duplicates };
    },
  );
}

/** Entry i's label as stored (a class label, or a regression value), or why it is refused. */
function check(
  e: FeedbackEntry,
  found: FeedbackLookup,
  i: number,
  signatureOf: (model: string, version: number) => ModelSignature | null,
): string | number | { refused: string } {
  if (found.model[i] < 0) {
    const rows = found.requestRows[i];
    return {
      refused:
        rows === 0
          ? 'no logged prediction has this request id (the x-request-id of the /predict answer)'
          : `request has ${rows} row${rows === 1 ? '' : 's'} (0 to ${rows - 1})`,
    };
  }
  const model = found.models[found.model[i]];
  const version = `${model} v${found.version[i]}`;
  const signature = signatureOf(model, found.version[i]);
  const classification = signature ? signature.task === 'classification' : found.classification[i] === 1;
  if (classification) {
    const label = String(e.actual);
    if (signature?.task === 'classification' && !signature.classLabels.includes(label)) {
      return { refused: `${JSON.stringify(label)} is not a class of ${version} (${signature.classLabels.join(', ')})` };
    }
    return label;
  }
  if (signature?.task === 'regression' && signature.targets.length !== 1) {
    return { refused: `${version} predicts ${signature.targets.length} targets; feedback labels one` };
  }
  // A CSV import sends what it read: a numeric string is the number.
  const value = typeof e.actual === 'number' ? e.actual : e.actual.trim() === '' ? NaN : Number(e.actual);
  if (!Number.isFinite(value))
    return { refused: `${version} is a regression: actual must be a finite number, got ${JSON.stringify(e.actual)}` };
  return value;
}
