import type { Counter, Histogram } from 'prom-client';
import type { ModelSignature } from '../../common/contract';
import { errors } from '../../common/errors';
import type { Prediction } from '../../common/inference';
import type { InputBatch } from '../../common/tensor-layout';
import type { Challenger } from '../loop/challenger';
import type { ServerMetrics } from '../monitoring/server-metrics';
import type { ModelHolder, ServedModel } from './model-holder';
import type { PredictionLog } from '../prediction-log';
import { logLayoutOf, logRows } from '../prediction-log/rows';
import type { ServingStatsCollector } from '../monitoring/serving-stats';

export interface Predicted {
  served: ServedModel;
  prediction: Prediction;
}

/** Metric children of a served version, resolved once instead of hashing labels per request. */
interface VersionMetrics {
  classes: Counter.Internal[];
  unseen: Counter.Internal[];
  values: Histogram.Internal<'model' | 'version' | 'target'>[];
}

/**
 * The prediction path shared by /predict and OIP infer: the served version runs the batch; beside
 * it, without waiting on I/O, the drift window, metrics and the prediction-log queue are fed.
 */
export class Predictor {
  private readonly children = new WeakMap<ServedModel, VersionMetrics>();

  constructor(
    private readonly holder: ModelHolder,
    private readonly metrics: ServerMetrics,
    private readonly stats: ServingStatsCollector,
    private readonly log: PredictionLog | null,
    private readonly challenger: Challenger | null = null,
  ) {}

  /** The served signature, to validate a request against (versions swapped in keep the same features). */
  servedSignature(): ModelSignature {
    return this.served().version.signature;
  }

  /**
   * Runs the batch on the version that answers this request: the champion, or the challenger for a
   * canary request (`side`: the CHALLENGER_SIDE_HEADER's value). A failed canary answer is counted and
   * answered by the champion instead; in shadow mode the challenger runs after the answer is sent.
   */
  async predict(
    batch: InputBatch,
    withProbabilities: boolean,
    requestId: string,
    elapsedMs: () => number,
    side?: string | string[],
  ): Promise<Predicted> {
    const champion = this.served();
    // The log keeps probabilities, so ask for them whenever it is on.
    const probabilities = withProbabilities || this.log !== null;
    const canary = this.challenger?.answerer(requestId, side) ?? null;
    if (canary) {
      const t0 = performance.now();
      try {
        const prediction = await canary.predict(batch, probabilities);
        this.challenger!.answered(true, (performance.now() - t0) / 1000);
        return this.observe(canary, batch, prediction, requestId, elapsedMs);
      } catch {
        this.challenger!.answered(false, (performance.now() - t0) / 1000);
      }
    }
    const prediction = await champion.predict(batch, probabilities);
    // A request the canary failed on is not shadowed too (its failure is counted once).
    if (!canary) this.challenger?.shadow(batch, prediction, champion, requestId);
    return this.observe(champion, batch, prediction, requestId, elapsedMs);
  }

  /** Beside the answer, without waiting on I/O: the drift window, metrics and the prediction-log queue. */
  private observe(served: ServedModel, batch: InputBatch, prediction: Prediction, requestId: string, elapsedMs: () => number): Predicted {
    const signature = served.version.signature;

    const m = this.versionMetrics(served);
    const unseen = served.drift.observe(batch, prediction);
    for (let j = 0; j < unseen.length; j++) if (unseen[j] > 0) m.unseen[j].inc(unseen[j]);
    if (prediction.task === 'classification' && signature.task === 'classification') {
      const classLabels = signature.classLabels;
      const counts = new Array<number>(classLabels.length).fill(0);
      for (const c of prediction.classes) counts[c]++;
      counts.forEach((count, c) => {
        if (count === 0) return;
        m.classes[c].inc(count);
        this.stats.predicted(classLabels[c], count);
      });
    } else if (prediction.task === 'regression' && served === this.holder.current()) {
      // The value histogram's buckets are the champion's (ServerMetrics.predictionValues): canary answers stay out.
      const t = m.values.length;
      // A missing input (null) can make a NaN prediction: it has no bucket (prom-client refuses it).
      for (let i = 0; i < prediction.values.length; i++) {
        const v = prediction.values[i];
        if (!Number.isNaN(v)) m.values[i % t].observe(v);
      }
    }
    this.record(served, batch, prediction, requestId, elapsedMs(), false);
    return { served, prediction };
  }

  /**
   * Queues the rows for the prediction log: the answer sent, or (shadow) a challenger's prediction
   * of the same rows, kept apart so that feedback gives the challenger a live quality too.
   */
  record(served: ServedModel, batch: InputBatch, prediction: Prediction, requestId: string, latencyMs: number, shadow: boolean): void {
    if (!this.log) return;
    const signature = served.version.signature;
    const labels =
      prediction.task === 'classification' && signature.task === 'classification'
        ? Array.from(prediction.classes, (c) => signature.classLabels[c])
        : null;
    const { model, version } = served.info;
    const layout = logLayoutOf(signature);
    const { rows, strings } = logRows(layout, batch);
    this.log.record({
      at: Date.now(),
      requestId,
      model,
      version,
      features: layout.features,
      kinds: layout.kinds,
      rows,
      strings,
      n: batch.n,
      labels,
      probabilities: prediction.task === 'classification' ? prediction.probabilities : null,
      nClasses: signature.task === 'classification' ? signature.classLabels.length : 0,
      values: prediction.task === 'regression' ? prediction.values : null,
      nTargets: signature.task === 'regression' ? signature.targets.length : 0,
      latencyMs,
      ...(shadow ? { shadow } : {}),
    });
  }

  private versionMetrics(served: ServedModel): VersionMetrics {
    let m = this.children.get(served);
    if (!m) {
      const s = served.version.signature;
      const labels = served.metricLabels;
      m = {
        classes: s.task === 'classification' ? s.classLabels.map((c) => this.metrics.predictions.labels({ ...labels, class: c })) : [],
        unseen: s.features.map((f) => this.metrics.unseenCategories.labels({ ...labels, feature: f.name })),
        values: s.task === 'regression' ? s.targets.map((t) => this.metrics.predictionValues(served).labels({ ...labels, target: t })) : [],
      };
      this.children.set(served, m);
    }
    return m;
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
