import type { FastifyInstance } from 'fastify';
import type { RetrainRequest } from '../../common/contract';
import type { Retrainer } from '../loop/retrain';

/** POST /api/retrain: the served model's pipeline again, on its data and the labelled predictions (server/loop/retrain.ts). */
export async function retrainRoutes(app: FastifyInstance, o: { retrainer: Retrainer }): Promise<void> {
  app.post(
    '/api/retrain',
    {
      schema: {
        tags: ['management'],
        summary: 'Retrain the served model with its labelled predictions; a version that passes the gate becomes the challenger',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            data: { type: 'string', enum: ['append', 'replace'] },
            trigger: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' },
          },
        },
      },
    },
    async (req, reply) => reply.status(202).send(await o.retrainer.start((req.body ?? {}) as RetrainRequest)),
  );
}
