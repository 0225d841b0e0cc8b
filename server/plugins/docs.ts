import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ModelSignature } from '../../common/contract';
import { sampleRecords } from '../sample';

/**
 * /docs (Swagger UI) and /docs/json (OpenAPI 3) generated from the route schemas; the /predict
 * body and answer are filled in on each request from the served model's signature.
 */
async function docsPlugin(app: FastifyInstance, opts: { version: string; signature: () => ModelSignature | null }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'MLOps prediction server',
        version: opts.version,
        description: 'Predictions (/predict, Open Inference Protocol v2), health, metrics and the management API.',
      },
      components: { securitySchemes: { basic: { type: 'http', scheme: 'basic' }, bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: false },
    transformSpecification: (spec) => withSignature(spec as OpenApi, opts.signature()),
  });
}

/** Not encapsulated: swagger must see the routes every other plugin registers. */
export const docs = fp(docsPlugin, { name: 'docs' });

type OpenApi = { paths?: Record<string, Record<string, Record<string, unknown>>> };

function withSignature(spec: OpenApi, s: ModelSignature | null): OpenApi {
  const post = spec.paths?.['/predict']?.post;
  if (!post || !s) return spec;
  const names = s.features.map((f) => f.name);
  const record = {
    type: 'object',
    required: names,
    additionalProperties: false,
    properties: Object.fromEntries(
      s.features.map((f) => [f.name, { type: 'number', format: 'float', description: `seen in training: ${f.min} … ${f.max}` }]),
    ),
  };
  const sample = sampleRecords(s);
  post.requestBody = {
    required: true,
    content: { 'application/json': { schema: { type: 'array', minItems: 1, items: record }, example: sample } },
  };
  post.responses = {
    200: {
      description: `One object per record: the predicted ${s.target}`,
      content: {
        'application/json': {
          schema: {
            type: 'array',
            items: {
              type: 'object',
              required: [s.target],
              properties: {
                [s.target]: { type: 'string', enum: s.classLabels },
                probabilities: { type: 'object', properties: Object.fromEntries(s.classLabels.map((c) => [c, { type: 'number' }])) },
              },
            },
          },
        },
      },
    },
    400: { description: 'Bad input: the message names the row and the field' },
    503: { description: 'No model is being served yet' },
  };
  return spec;
}
