import autocannon from 'autocannon';
import { SAMPLE } from './server';

/** `connections` clients posting SAMPLE to /predict for `seconds`; collects every x-model-version that answered. */
export async function predictLoad(url: string, seconds: number, connections = 32) {
  const versions = new Set<string>();
  const result = await autocannon({
    url: `${url}/predict`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(SAMPLE),
    connections,
    duration: seconds,
    // autocannon hands over the parser's raw header list, [name, value, …] (its typings say otherwise)
    setupClient: (client) =>
      client.on('headers', (h) => {
        const headers = (h as unknown as { headers: string[] }).headers;
        const i = headers.findIndex((x, k) => k % 2 === 0 && x.toLowerCase() === 'x-model-version');
        if (i >= 0) versions.add(headers[i + 1]);
      }),
  });
  return { result, versions };
}
