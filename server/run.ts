import { buildServer, type Server } from './app';
import { checkExposure, loadConfig, type ServeFlags } from './config';

/**
 * Starts the server process: config from env and flags, listen, and on SIGTERM/SIGINT stop
 * accepting, finish in-flight requests, flush the prediction log and exit 0.
 */
export async function runServer(flags: ServeFlags): Promise<Server> {
  const config = loadConfig(flags);
  checkExposure(config);
  const server = await buildServer(config);
  await server.app.listen({ host: config.host, port: config.port });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    server.app.log.info({ signal }, 'shutting down');
    server.app.close().then(
      () => process.exit(0),
      (err) => {
        server.app.log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  return server;
}
