import type { FastifyInstance } from 'fastify';
import { MODEL_VERSION_HEADER } from '../../common/contract';
import { CHALLENGER_SIDE_HEADER } from '../loop/challenger';
import { float32Json } from '../serving/float32-json';
import { labelValue } from '../serving/model-holder';
import type { Predictor } from '../serving/predictor';
import { batchFromRecords } from '../serving/validate';

/**
 * POST /predict: the original template's API — a list of records in, a list of {target: label} out
 * for a classifier, of {target: value, …} (one key per target) for a regression model.
 */
export async function predictRoutes(app: FastifyInstance, opts: { predictor: Predictor; maxRows: number }): Promise<void> {
  app.post(
    '/predict',
    {
      schema: {
        tags: ['predict'],
        summary: 'Predict a list of records',
        description:
          "The body is a JSON list of records holding the served model's features (numbers, integers, booleans or strings, " +
          'as its signature says); the answer is a list of `{"<target>": "<label>"}` (classification) or ' +
          '`{"<target>": 151.2}` (regression, one key per target) in the same order. ' +
          'Add `?probabilities=true` for class probabilities. The `x-model-version` header names the version that answered.',
        querystring: { type: 'object', properties: { probabilities: { type: 'boolean', default: false } } },
      },
    },
    async (request, reply) => {
      const batch = batchFromRecords(request.body, opts.predictor.servedSignature(), opts.maxRows);
      const withProbabilities = (request.query as { probabilities?: boolean }).probabilities === true;
      const side = request.headers[CHALLENGER_SIDE_HEADER];
      const { served, prediction } = await opts.predictor.predict(batch, withProbabilities, request.id, () => reply.elapsedTime, side);
      reply.header(MODEL_VERSION_HEADER, `${served.info.model}/${served.info.version}`);
      const n = batch.n;
      if (prediction.task === 'regression') {
        // Serialised from key fragments made once per version; values as the float32 they are.
        const keys = served.valueKeys;
        const t = keys.length;
        let body = '[';
        for (let i = 0; i < n; i++) {
          body += i ? ',' : '';
          for (let k = 0; k < t; k++) body += keys[k] + float32Json(prediction.values[i * t + k]);
          body += '}';
        }
        return reply.type('application/json; charset=utf-8').send(body + ']');
      }
      const s = served.version.signature;
      if (!withProbabilities || !prediction.probabilities || s.task !== 'classification') {
        // The common case, serialised from per-class JSON fragments made once per version.
        let body = '[';
        for (let i = 0; i < n; i++) body += (i ? ',' : '') + served.labelJson[prediction.classes[i]];
        return reply.type('application/json; charset=utf-8').send(body + ']');
      }
      const c = s.classLabels.length;
      const out = new Array(n);
      for (let i = 0; i < n; i++) {
        const p: Record<string, number> = {};
        for (let k = 0; k < c; k++) p[s.classLabels[k]] = prediction.probabilities[i * c + k];
        out[i] = { [s.target]: labelValue(s, s.classLabels[prediction.classes[i]]), probabilities: p };
      }
      return out;
    },
  );
}
