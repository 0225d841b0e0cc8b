// (a) 1-row /predict through haproxy to 2 replicas, against 1 replica direct, in one run on one
// machine. On 2 cores the replicas and the load generator share the CPU: the ratio shows that nothing
// serialises on the registry or the log (it stays near the direct figure), not linear scaling.
import { runLoad } from '../cli/load';
import type { LoadTestResult } from '../common/contract';
import { SAMPLE } from '../test/helpers/server';
import { Topology } from '../test/helpers/topology';
import type { BenchBackend } from './scale-out-backends';

export interface ThroughputFigures {
  backend: string;
  direct: LoadTestResult;
  balanced: LoadTestResult;
  /** balanced req/s ÷ direct req/s */
  ratio: number;
}

export async function throughputBench(b: BenchBackend, seconds: number, connections: number): Promise<ThroughputFigures> {
  const topology = new Topology({ replicas: 2, backend: b.backend, model: 'iris@production', env: { LOG_PREDICTIONS: 'true' } });
  try {
    await topology.trainIris();
    await topology.start();
    const body = JSON.stringify([SAMPLE[0]]);
    const load = (url: string) => runLoad({ url: `${url}/predict`, connections, durationSeconds: seconds, body, rowsPerRequest: 1 });
    await load(topology.balancerUrl); // warm-up of both replicas and haproxy
    const direct = await load(topology.replicas[0].url);
    const balanced = await load(topology.balancerUrl);
    return { backend: b.label, direct, balanced, ratio: balanced.requestsPerSecond / direct.requestsPerSecond };
  } finally {
    await topology.stop();
    topology.kill();
    topology.remove();
  }
}
