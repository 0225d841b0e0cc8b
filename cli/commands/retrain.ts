import type { Command } from 'commander';
import { apiTokenHeader } from '../../common/api-token';
import { dataDir } from '../../common/config';
import type { RetrainRequest, RetrainResponse, RunRecord } from '../../common/contract';
import { errors } from '../../common/errors';

/** A JSON request to the running server's /api, with the data dir's token (or MLOPS_API_TOKEN); `missing` answers a 404. */
async function api<T>(base: string, method: 'GET' | 'POST', route: string, body?: unknown, missing?: T): Promise<T> {
  const url = `${base.replace(/\/$/, '')}${route}`;
  const headers = { ...apiTokenHeader(dataDir()), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }).catch((err: Error) => {
    throw errors.unreachable(url, err.message);
  });
  if (res.status === 404 && missing !== undefined) return missing;
  if (!res.ok) {
    const text = await res.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON: the text as it is
    }
    throw errors.serverAnswered(url, res.status, `${method} ${route}`, message);
  }
  return (await res.json()) as T;
}

export function retrainCommand(program: Command): void {
  program
    .command('retrain')
    .description(
      "retrain the running server's model on its data plus the labelled predictions (POST /api/retrain); " +
        'a version that passes the gate becomes the challenger',
    )
    .option('--replace', 'train on the labelled predictions alone instead of appending them to the data')
    .option('--url <url>', 'the server', `http://127.0.0.1:${process.env.MLOPS_PORT ?? 8000}`)
    .option('--wait', 'wait for the run to end and say which version became the challenger')
    .action(async (flags: { replace?: boolean; url: string; wait?: boolean }) => {
      const req: RetrainRequest = { data: flags.replace ? 'replace' : 'append', trigger: 'manual' };
      const r = await api<RetrainResponse>(flags.url, 'POST', '/api/retrain', req);
      process.stdout.write(
        `retraining ${r.model} version ${r.fromVersion}: run ${r.runId} on ${r.rows} rows (${r.labelledRows} labelled, ${r.data})\n`,
      );
      if (!flags.wait) return;
      const unrecordedUntil = Date.now() + 60_000;
      for (;;) {
        // The runner records the run as it starts: until then the run is not found.
        const run = await api<RunRecord | null>(flags.url, 'GET', `/api/runs/${r.runId}`, undefined, null);
        if (!run && Date.now() > unrecordedUntil)
          throw errors.retrainEnded(r.runId, 'unrecorded', 'the runner did not record it within 60 s');
        if (run && !['queued', 'running'].includes(run.status)) {
          if (run.status === 'succeeded' && run.registered) {
            process.stdout.write(`${run.registered.model} version ${run.registered.version} registered as the challenger\n`);
            return;
          }
          throw errors.retrainEnded(r.runId, run.status, run.error);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });
}
