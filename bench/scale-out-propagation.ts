// (c) alias propagation: 20 promotes (v2, v1, … through one replica's management API, which answers
// after the move's commit), each timed from that answer to every replica's /readyz reporting the new
// version. Default settings (MLOPS_POLL_MS 1000): SQLite replicas find moves by polling, PostgreSQL
// ones are told through LISTEN/NOTIFY.
import { apiTokenHeader } from '../common/api-token';
import { Topology } from '../test/helpers/topology';
import type { BenchBackend } from './scale-out-backends';

export interface PropagationFigures {
  backend: string;
  replicas: number;
  promotes: number;
  p50Ms: number;
  maxMs: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export async function propagationBench(b: BenchBackend, promotes = 20, replicas = 3): Promise<PropagationFigures> {
  const topology = new Topology({ replicas, backend: b.backend, model: 'iris@production' });
  try {
    await topology.trainIris();
    await topology.start();
    const via = topology.replicas[0];
    const took: number[] = [];
    for (let i = 0; i < promotes; i++) {
      // Spread the moves over the poll period: back to back, each would land just after the previous
      // poll, and every figure would be one whole period.
      await new Promise((r) => setTimeout(r, (i * 397) % 1000));
      const version = i % 2 === 0 ? 2 : 1;
      const res = await fetch(`${via.url}/api/models/iris/aliases/production`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...apiTokenHeader(via.dataDir) },
        body: JSON.stringify({ version }),
      });
      if (res.status !== 200) throw new Error(`PUT /api/models/iris/aliases/production: ${res.status} ${await res.text()}`);
      took.push(await topology.untilAllServe(version));
    }
    took.sort((x, y) => x - y);
    return { backend: b.label, replicas, promotes, p50Ms: percentile(took, 50), maxMs: took.at(-1)! };
  } finally {
    await topology.stop();
    topology.kill();
    topology.remove();
  }
}
