import type { FastifyInstance } from 'fastify';
import { MODEL_VERSION_HEADER, type ModelSignature, type ModelVersion } from '../../common/contract';
import { errors } from '../../common/errors';
import type { Registry } from '../../common/registry';
import { outputNames } from '../../common/signature';
import { CHALLENGER_SIDE_HEADER } from '../loop/challenger';
import type { Predictor } from '../serving/predictor';
import type { ServedModel } from '../serving/model-holder';
import { oipMetadata, oipOutputs } from '../serving/oip-tensors';
import { badInput, batchFromOipInputs } from '../serving/validate';

interface Params {
  name: string;
  version?: string;
}

/**
 * Open Inference Protocol v2 (KServe, Triton, MLServer clients). The server runs one version at a
 * time: metadata answers for any registered version, inference for the served one.
 */
export async function oipRoutes(app: FastifyInstance, opts: { predictor: Predictor; registry: Registry; maxRows: number }): Promise<void> {
  const versionOf = async (p: Params): Promise<ModelVersion> => {
    if (p.version !== undefined && !/^[1-9]\d*$/.test(p.version)) throw errors.badVersion(p.version);
    const versions = await opts.registry.models.versions(p.name); // 404 for an unknown model
    if (p.version === undefined) return opts.registry.models.resolve({ name: p.name, selector: null });
    const v = versions.find((x) => x.version === Number(p.version));
    if (!v) throw errors.notFound(`model '${p.name}' version ${p.version}`);
    return v;
  };
  const metadata = async (p: Params) => {
    const v = await versionOf(p);
    return {
      name: v.model,
      versions: (await opts.registry.models.versions(v.model)).map((x) => String(x.version)),
      platform: 'onnxruntime_onnx',
      ...oipMetadata(v.signature),
    };
  };
  const names = (p: Params, served: ServedModel | null) =>
    served !== null && served.info.model === p.name && (p.version === undefined || String(served.info.version) === p.version);
  const isServed = (p: Params) => names(p, opts.predictor.served());
  const tags = ['open inference protocol'];
  for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get(prefix, { schema: { tags, summary: 'Model metadata' } }, async (req) => metadata(req.params as Params));
    app.get(`${prefix}/ready`, { schema: { tags, summary: 'Is this model (version) being served?' } }, async (req, reply) => {
      const p = req.params as Params;
      await versionOf(p);
      return isServed(p) ? { name: p.name, ready: true } : reply.status(503).send({ name: p.name, ready: false });
    });
    app.post(
      `${prefix}/infer`,
      { schema: { tags, summary: "Inference: the model's inputs ([N, F] or per-column [N, 1] / [N]), or one [N] input per feature" } },
      async (req, reply) => {
        const p = req.params as Params;
        // The served version is in the registry by construction: only a request naming another one
        // needs the registry (404 for an unknown model or version, before 503 or the mismatch).
        if (!names(p, opts.predictor.current())) await versionOf(p);
        const served = opts.predictor.served();
        if (!isServed(p)) {
          throw errors.notServedHere(
            p.name,
            p.version === undefined ? undefined : Number(p.version),
            served.info.model,
            served.info.version,
          );
        }
        const body = req.body as { id?: unknown; outputs?: { name?: unknown }[] };
        const signature: ModelSignature = served.version.signature;
        const wanted = requestedOutputs(body?.outputs, signature);
        const batch = batchFromOipInputs(req.body, signature, opts.maxRows);
        const probabilities = signature.task === 'classification' ? signature.probabilitiesOutput : null;
        const withProbabilities = probabilities !== null && wanted.includes(probabilities);
        // A request naming a version gets that version: only unversioned ones may go to a canary.
        const side = p.version === undefined ? req.headers[CHALLENGER_SIDE_HEADER] : 'champion';
        const { served: ran, prediction } = await opts.predictor.predict(batch, withProbabilities, req.id, () => reply.elapsedTime, side);
        reply.header(MODEL_VERSION_HEADER, `${ran.info.model}/${ran.info.version}`);
        const id = typeof body.id === 'string' ? body.id : req.id;
        const head = `{"model_name":${JSON.stringify(ran.info.model)},"model_version":"${ran.info.version}","id":${JSON.stringify(id)}`;
        return reply.type('application/json; charset=utf-8').send(`${head},"outputs":[${oipOutputs(ran, wanted, prediction, batch.n)}]}`);
      },
    );
  }
}

function requestedOutputs(outputs: { name?: unknown }[] | undefined, s: ModelSignature): string[] {
  const all = outputNames(s);
  if (outputs === undefined) return all;
  if (!Array.isArray(outputs)) throw badInput('"outputs" must be a list of {"name": …}');
  return outputs.map((o, k) => {
    if (typeof o?.name !== 'string' || !all.includes(o.name)) throw badInput(`outputs[${k}].name must be one of ${all.join(', ')}`);
    return o.name;
  });
}
