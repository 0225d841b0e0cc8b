// (b) prediction-log rows/s into a backend at 100-row /predict requests: one replica under load for
// `seconds`; the rate is the rows committed over the time from the first request to the last commit
// (the log's row count, polled until it stops growing), so a log that falls behind the predictions shows
// as a lower rate, and as rows dropped past the queue bound, reported beside it.
import { runLoad } from '../cli/load';
import { SAMPLE } from '../test/helpers/server';
import { droppedLogRows, loggedRowCount, Topology } from '../test/helpers/topology';
import type { BenchBackend } from './scale-out-backends';

export interface LogRateFigures {
  backend: string;
  rowsPerSecond: number;
  committed: number;
  dropped: number;
  predictedRowsPerSecond: number;
}

export async function logRateBench(b: BenchBackend, seconds: number, connections: number): Promise<LogRateFigures> {
  const topology = new Topology({ replicas: 1, backend: b.backend, model: 'iris@production', env: { LOG_PREDICTIONS: 'true' } });
  try {
    await topology.trainIris();
    await topology.start();
    const url = topology.replicas[0].url;
    const before = await loggedRowCount(topology);
    const started = Date.now();
    const result = await runLoad({
      url: `${url}/predict`,
      connections,
      durationSeconds: seconds,
      body: JSON.stringify(Array(100).fill(SAMPLE[0])),
      rowsPerRequest: 100,
    });
    // Drained: no new row over 10 flush periods (MLOPS_LOG_FLUSH_MS is 50 in a topology).
    let count = await loggedRowCount(topology);
    let lastCommit = Date.now();
    while (Date.now() - lastCommit < 500) {
      await new Promise((r) => setTimeout(r, 50));
      const now = await loggedRowCount(topology);
      if (now !== count) [count, lastCommit] = [now, Date.now()];
    }
    const dropped = await droppedLogRows(url);
    const committed = count - before;
    return {
      backend: b.label,
      rowsPerSecond: committed / ((lastCommit - started) / 1000),
      committed,
      dropped,
      predictedRowsPerSecond: result.rowsPerSecond,
    };
  } finally {
    await topology.stop();
    topology.kill();
    topology.remove();
  }
}
