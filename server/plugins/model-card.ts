// GET /api/models/{name}/versions/{v}/card: the version's model card as Markdown. The stored
// card.md (written at registration, common/model-card.ts) with its live section rendered now: the
// drift window when this server serves the version, and live quality from ground-truth feedback.
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { LiveQuality, ModelVersion } from '../../common/contract';
import { errors } from '../../common/errors';
import { cardPath, renderCard } from '../../common/model-card';
import { withLiveSection } from '../../common/model-card-live';
import { checkName, type Registry } from '../../common/registry';
import type { ModelHolder } from '../serving/model-holder';

export interface ModelCardOptions {
  registry: Registry;
  holder: ModelHolder;
  /** Live quality of any version from feedback, when the server keeps it. */
  liveQuality?: (model: string, version: number) => LiveQuality | null;
}

/** card.md as stored; a version without one (registered before cards, or its write failed) gets one rendered from its row. */
function storedCard(version: ModelVersion): string {
  try {
    return fs.readFileSync(cardPath(version), 'utf8');
  } catch (err) {
    const file = cardPath(version);
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw errors.registry(`cannot read ${file}: ${(err as Error).message}`);
    const groupsNote = 'this version has no stored card.md (registered before model cards): rendered from its registry row';
    return renderCard({ version, meta: null, evidence: { groupsNote } });
  }
}

export async function modelCardRoutes(app: FastifyInstance, o: ModelCardOptions): Promise<void> {
  const summary = "A version's model card (text/markdown): data, metrics, group gaps, gate, intended use, ethics; live drift and quality";
  app.get('/api/models/:name/versions/:version/card', { schema: { tags: ['management'], summary } }, async (req, reply) => {
    const params = req.params as { name: string; version: string };
    if (!/^[1-9]\d*$/.test(params.version)) throw errors.badVersion(params.version);
    const version = await o.registry.models.version(checkName('model name', params.name), Number(params.version));
    const served = o.holder.current();
    const isServed = served !== null && served.info.model === version.model && served.info.version === version.version;
    const markdown = withLiveSection(storedCard(version), {
      model: version.model,
      version: version.version,
      serving: served?.info ?? null,
      drift: isServed ? served.drift.snapshot() : null,
      quality: o.liveQuality?.(version.model, version.version) ?? null,
      at: new Date().toISOString(),
    });
    return reply.type('text/markdown; charset=utf-8').send(markdown);
  });
}
