import type { Command } from 'commander';
import type { ServeFlags } from '../../server/config';
import { runServer } from '../../server/run';
import { parsePositive } from './runs';

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the registry’s model over HTTP: /predict, Open Inference Protocol /v2, /docs, /metrics, /api')
    .option('--host <host>', 'address to listen on (MLOPS_HOST; default 127.0.0.1)')
    .option('--port <port>', 'port (MLOPS_PORT; default 8000)', (v) => parsePort(v))
    .option('--model <name>', 'model to serve (MLOPS_MODEL; default: the only model, or iris)')
    .option('--alias <alias>', 'alias to follow (MLOPS_MODEL_ALIAS; default production, else latest)')
    .option('--version <n>', 'pin a version instead of following an alias (MLOPS_MODEL_VERSION)', (v) => parsePositive(v))
    .option('--allow-insecure-bind', 'allow a non-loopback address without auth on every scope')
    .action(async (flags: ServeFlags) => {
      await serve(flags);
    });
}

export async function serve(flags: ServeFlags): Promise<void> {
  const server = await runServer(flags);
  const address = server.app.server.address();
  const where = typeof address === 'object' && address ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : String(address);
  const served = server.holder.current();
  process.stderr.write(
    `serving ${served ? `${served.info.model} version ${served.info.version}` : `nothing yet (${server.holder.error()})`} on ${where} — try ${where}/docs\n`,
  );
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`expected a port number, got '${v}'`);
  return n;
}
