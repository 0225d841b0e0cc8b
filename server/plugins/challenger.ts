import type { FastifyInstance } from 'fastify';
import type { AliasMove, ChallengerInfo } from '../../common/contract';
import { errors } from '../../common/errors';
import { checkName, type Registry } from '../../common/registry';
import type { Challenger } from '../loop/challenger';
import type { ModelHolder } from '../serving/model-holder';

const byBody = { type: 'object', additionalProperties: false, properties: { by: { type: 'string', maxLength: 100 } } } as const;

/** The challenger's management routes: its state and mode, promoting it, removing an alias. */
export async function challengerRoutes(
  app: FastifyInstance,
  o: { registry: Registry; holder: ModelHolder; challenger: Challenger },
): Promise<void> {
  const tags = ['challenger'];
  /** Both holders, after our own commit (which does not move data_version for our connection). */
  const refresh = async () => {
    await o.holder.refresh();
    await o.challenger.refresh();
  };
  const summary = 'The challenger: mode, share, agreement, latency, quality (null: none)';
  app.get('/api/challenger', { schema: { tags, summary } }, async () => o.challenger.info());
  app.put(
    '/api/challenger',
    {
      schema: {
        tags,
        summary: 'Change the challenger mode (shadow, canary) and share (0…1); clears an automatic canary stop',
        body: { type: 'object', additionalProperties: false, properties: { mode: {}, share: {} } },
      },
    },
    async (req): Promise<ChallengerInfo> => {
      const info = o.challenger.info();
      if (!info) throw errors.noChallenger(o.holder.current()?.info.model ?? '(none served)', o.challenger.alias);
      return o.challenger.set(req.body ?? {}) ?? info;
    },
  );
  app.post(
    '/api/challenger/promote',
    { schema: { tags, summary: "Production takes the challenger's version, the challenger alias is removed: atomically", body: byBody } },
    async (req): Promise<AliasMove[]> => {
      const champion = o.holder.current();
      if (!champion) throw errors.nothingServed(o.holder.error());
      // The alias the champion is served by (production unless the server follows another one).
      const selector = champion.info.selector;
      const to = typeof selector === 'string' && selector !== 'latest' ? selector : 'production';
      const by = (req.body as { by?: string } | undefined)?.by ?? 'api';
      const moves = await o.registry.models.promoteFrom(champion.info.model, o.challenger.alias, to, by);
      await refresh();
      return moves;
    },
  );
  app.delete(
    '/api/models/:name/aliases/:alias',
    { schema: { tags, summary: 'Remove an alias (e.g. the challenger), kept in the history; 404 when it is not set' } },
    async (req): Promise<AliasMove> => {
      const { name, alias } = req.params as { name: string; alias: string };
      const move = await o.registry.models.removeAlias(checkName('model name', name), alias, 'api');
      if (!move) throw errors.notFound(`alias '${alias}' of model '${name}'`);
      await refresh();
      return move;
    },
  );
}
