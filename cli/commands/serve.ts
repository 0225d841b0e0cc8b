import type { Command } from 'commander';
import { parseModelRef } from '../../common/model-uri';
import type { ServeFlags } from '../../server/config';
import { runServer } from '../../server/lifecycle';
import { parsePositive } from '../options';

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the registry’s model over HTTP: /predict, Open Inference Protocol /v2, /docs, /metrics, /api')
    .argument('[model]', 'what to serve, as in `mlflow models serve -m`: models:/iris@production, models:/iris/3, iris@staging, iris')
    .option('--host <host>', 'address to listen on (MLOPS_HOST; default 127.0.0.1)')
    .option('--port <port>', 'port (MLOPS_PORT; default 8000)', (v) => parsePort(v))
    .option('-m, --model <model>', 'the same as [model] (MLOPS_MODEL; default: the only model)')
    .option('--alias <alias>', 'alias to follow (MLOPS_MODEL_ALIAS; default production, else latest)')
    .option('--version <n>', 'pin a version instead of following an alias (MLOPS_MODEL_VERSION)', (v) => parsePositive(v))
    .option('--allow-insecure-bind', 'allow a non-loopback address without auth on every scope')
    .action(async (model: string | undefined, flags: ServeFlags, command: Command) => {
      if (model !== undefined && flags.model !== undefined)
        command.error(`error: name the model once: '${model}' or --model '${flags.model}'`);
      await serve(servedModel(model ?? flags.model, flags, command));
    });
}

/** Splits a model URI (or name@alias, name/version) into the server's model, alias and version flags. */
function servedModel(text: string | undefined, flags: ServeFlags, command: Command): ServeFlags {
  if (text === undefined) return flags;
  const { name, selector } = parseModelRef(text);
  if (selector === null) return { ...flags, model: name };
  if (flags.alias !== undefined || flags.version !== undefined) {
    command.error(`error: ${text} already says which version; drop --alias/--version`);
  }
  return typeof selector === 'number' ? { ...flags, model: name, version: selector } : { ...flags, model: name, alias: selector };
}

export async function serve(flags: ServeFlags): Promise<void> {
  const server = await runServer(flags);
  const address = server.app.server.address();
  const where =
    typeof address === 'object' && address
      ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
      : String(address);
  const served = server.holder.current();
  const what = served ? `${served.info.model} version ${served.info.version}` : `nothing yet (${server.holder.error()})`;
  process.stderr.write(`serving ${what} on ${where} — try ${where}/docs\n`);
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`expected a port number, got '${v}'`);
  return n;
}
