import Ajv from 'ajv';
import type { FastifyInstance } from 'fastify';

/**
 * JSON bodies are validated strictly (a "2" is not a version, extra fields are errors, not
 * silently removed, as Fastify's defaults would do); query strings and path parameters are text
 * and are coerced to the declared types.
 */
export function schemaValidation(app: FastifyInstance): void {
  const strict = new Ajv({
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    allowUnionTypes: true,
    strict: false,
  });
  const coercing = new Ajv({ coerceTypes: 'array', removeAdditional: false, useDefaults: true, allowUnionTypes: true, strict: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
}
