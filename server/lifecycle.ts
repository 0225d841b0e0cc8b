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
    // In-flight requests get a grace period; then connections a client keeps alive are cut so
    // that the log is flushed and the process exits rather than waiting on keep-alive timeouts.
    setTimeout(() => server.app.server.closeAllConnections(), 5000).unref();
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
