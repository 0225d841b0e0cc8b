// Entry point of the server process (dist/server.js). `mlops serve` runs the same runServer.
import { parseArgs } from 'node:util';
import { isMlopsError } from '../common/errors';
import { runServer } from './lifecycle';

const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    model: { type: 'string' },
    alias: { type: 'string' },
    version: { type: 'string' },
    'allow-insecure-bind': { type: 'boolean' },
  },
});

runServer({
  host: values.host,
  port: values.port === undefined ? undefined : Number(values.port),
  model: values.model,
  alias: values.alias,
  version: values.version === undefined ? undefined : Number(values.version),
  allowInsecureBind: values['allow-insecure-bind'],
}).catch((err: unknown) => {
  process.stderr.write(`mlops server: ${isMlopsError(err) || err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
