import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { FeatureSpec, ModelSignature } from '../../common/contract';
import { jsonTypeOf } from '../../common/signature';
import { sampleRecords } from '../serving/sample';

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

/** The OpenAPI schema of one feature's value in a /predict record. */
function featureSchema(f: FeatureSpec): Record<string, unknown> {
  const type = jsonTypeOf(f.type);
  const schema: Record<string, unknown> = { type };
  if (f.type === 'float32' || f.type === 'float64') schema.format = f.type === 'float32' ? 'float' : 'double';
  if (f.type === 'int64' || f.type === 'int32') schema.format = f.type;
  if (f.categories && f.strict) schema.enum = type === 'string' ? f.categories : f.categories.map(Number);
  if (f.nullable && type === 'number') schema.nullable = true;
  const range = f.min !== undefined ? `seen in training: ${f.min} … ${f.max}` : '';
  const seen = f.categories ? `categories seen in training: ${f.categories.join(', ')}` : range;
  const unseen = f.categories && !f.strict ? ' (another value is accepted and counted as unseen)' : '';
  if (seen) schema.description = seen + unseen;
  return schema;
}

/** The schema of one answer record: the label (and probabilities), or one number per regression target. */
function answerSchema(s: ModelSignature): Record<string, unknown> {
  if (s.task === 'regression') {
    return { type: 'object', required: s.targets, properties: Object.fromEntries(s.targets.map((t) => [t, { type: 'number' }])) };
  }
  const label = s.labelKind === 'int64' ? { type: 'integer', enum: s.classLabels.map(Number) } : { type: 'string', enum: s.classLabels };
  return {
    type: 'object',
    required: [s.target],
    properties: {
      [s.target]: label,
      probabilities: { type: 'object', properties: Object.fromEntries(s.classLabels.map((c) => [c, { type: 'number' }])) },
    },
  };
}

function withSignature(spec: OpenApi, s: ModelSignature | null): OpenApi {
  const post = spec.paths?.['/predict']?.post;
  if (!post || !s) return spec;
  const record = {
    type: 'object',
    required: s.features.map((f) => f.name),
    additionalProperties: false,
    properties: Object.fromEntries(s.features.map((f) => [f.name, featureSchema(f)])),
  };
  const sample = sampleRecords(s);
  post.requestBody = {
    required: true,
    content: { 'application/json': { schema: { type: 'array', minItems: 1, items: record }, example: sample } },
  };
  const what = s.task === 'regression' ? s.targets.join(', ') : s.target;
  post.responses = {
    200: {
      description: `One object per record: the predicted ${what}`,
      content: { 'application/json': { schema: { type: 'array', items: answerSchema(s) } } },
    },
    400: { description: 'Bad input: the message names the row, the field, the expected type and what was sent' },
    503: { description: 'No model is being served yet' },
  };
  return spec;
}
