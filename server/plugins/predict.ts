import type { FastifyInstance } from 'fastify';
import { MODEL_VERSION_HEADER } from '../../common/contract';
import type { Predictor } from '../predictor';
import { rowsFromRecords } from '../validate';

/** POST /predict: the original template's API — a list of records in, a list of {target: label} out. */
export async function predictRoutes(app: FastifyInstance, opts: { predictor: Predictor; maxRows: number }): Promise<void> {
  app.post(
    '/predict',
    {
      schema: {
        tags: ['predict'],
        summary: 'Predict a list of records',
        description:
          "The body is a JSON list of records holding the served model's features; " +
          'the answer is a list of `{"<target>": "<label>"}` in the same order. ' +
          'Add `?probabilities=true` for class probabilities. The `x-model-version` header names the version that answered.',
        querystring: { type: 'object', properties: { probabilities: { type: 'boolean', default: false } } },
      },
    },
    async (request, reply) => {
      const rows = rowsFromRecords(request.body, opts.predictor.servedSignature(), opts.maxRows);
      const withProbabilities = (request.query as { probabilities?: boolean }).probabilities === true;
      const { served, prediction } = await opts.predictor.predict(rows, withProbabilities, request.id, () => reply.elapsedTime);
      reply.header(MODEL_VERSION_HEADER, `${served.info.model}/${served.info.version}`);
      if (!withProbabilities) {
        // The common case, serialised from per-class JSON fragments made once per version.
        let body = '[';
        for (let i = 0; i < rows.n; i++) body += (i ? ',' : '') + served.labelJson[prediction.classes[i]];
        return reply.type('application/json; charset=utf-8').send(body + ']');
      }
      const { target, classLabels } = served.version.signature;
      const c = classLabels.length;
      const out = new Array(rows.n);
      for (let i = 0; i < rows.n; i++) {
        const record: Record<string, unknown> = { [target]: classLabels[prediction.classes[i]] };
        if (prediction.probabilities) {
          const p: Record<string, number> = {};
          for (let k = 0; k < c; k++) p[classLabels[k]] = prediction.probabilities[i * c + k];
          record.probabilities = p;
        }
        out[i] = record;
      }
      return out;
    },
  );
}
