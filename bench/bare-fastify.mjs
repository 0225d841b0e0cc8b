// The HTTP ceiling for `npm run bench`: a bare Fastify route answering a constant, parsing the
// same JSON body as /predict. Usage: node bench/bare-fastify.mjs <port>
import Fastify from 'fastify';

const app = Fastify({ logger: false });
const answer = [{ variety: 'Virginica' }];
app.post('/predict', async () => answer);
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) });
process.stdout.write(`listening ${app.server.address().port}\n`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
