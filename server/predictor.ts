import type { Counter } from 'prom-client';
import type { ModelSignature } from '../common/contract';
import { errors } from '../common/errors';
import type { ServerMetrics } from './server-metrics';
import type { ModelHolder, ServedModel } from './model-holder';
import type { Prediction } from './inference';
import type { PredictionLog } from './prediction-log';
import type { ServingStatsCollector } from './serving-stats';
import type { Rows } from './validate';

export interface Predicted {
  served: ServedModel;
  prediction: Prediction;
}

/**
 * The prediction path shared by /predict and OIP infer: the served version runs the rows; beside
 * it, without waiting on I/O, the drift window, metrics and the prediction-log queue are fed.
 */
export class Predictor {
  private readonly counters = new WeakMap<ServedModel, Counter.Internal[]>();

  constructor(
    private readonly holder: ModelHolder,
    private readonly metrics: ServerMetrics,
    private readonly stats: ServingStatsCollector,
    private readonly log: PredictionLog | null,
  ) {}

  /** The served signature, to validate a request against (versions swapped in keep the same features). */
  servedSignature(): ModelSignature {
    return this.served().version.signature;
  }

  async predict(rows: Rows, withProbabilities: boolean, requestId: string, elapsedMs: () => number): Promise<Predicted> {
    const served = this.served();
    // The log keeps probabilities, so ask for them whenever it is on.
    const prediction = await served.predict(rows.data, rows.n, withProbabilities || this.log !== null);

    const { model, version } = served.info;
    const labels = served.version.signature.classLabels;
    served.drift.observe(rows.data, prediction.classes);
    const counts = new Array<number>(labels.length).fill(0);
    for (const c of prediction.classes) counts[c]++;
    const counters = this.classCounters(served);
    counts.forEach((count, c) => {
      if (count === 0) return;
      counters[c].inc(count);
      this.stats.predicted(labels[c], count);
    });
    this.log?.record({
      at: Date.now(),
      requestId,
      model,
      version,
      features: served.featureNames,
      rows: rows.data,
      labels: Array.from(prediction.classes, (c) => labels[c]),
      probabilities: prediction.probabilities,
      nClasses: labels.length,
      latencyMs: elapsedMs(),
    });
    return { served, prediction };
  }

  /** Per-class counter children, resolved once per served version instead of hashing labels per request. */
  private classCounters(served: ServedModel): Counter.Internal[] {
    let counters = this.counters.get(served);
    if (!counters) {
      counters = served.version.signature.classLabels.map((label) =>
        this.metrics.predictions.labels({ ...served.metricLabels, class: label }),
      );
      this.counters.set(served, counters);
    }
    return counters;
  }

  /** The served version, or null before one is loaded. */
  current(): ServedModel | null {
    return this.holder.current();
  }

  served(): ServedModel {
    const served = this.holder.current();
    if (!served) throw errors.nothingServed(this.holder.error() ?? 'loading');
    return served;
  }
}
