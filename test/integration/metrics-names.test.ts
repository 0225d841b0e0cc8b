import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import parse from 'parse-prometheus-text-format';
import { needs } from '../helpers/cli';
import { SAMPLE, post, trainedServer } from '../helpers/server';

const promtool = spawnSync('promtool', ['--version']).status === 0;

describe('/metrics naming', () => {
  const ctx = trainedServer({ MLOPS_LOG_FLUSH_MS: '20' });
  let scrapes = 0;
  const scrape = async () => {
    const requestId = `scrape-${++scrapes}`;
    assert.equal((await post(`${ctx.server.url}/predict`, SAMPLE, { 'x-request-id': requestId })).status, 200);
    // A label too, so that the live-quality series are scraped and checked.
    const label = await post(`${ctx.server.url}/feedback`, [{ requestId, row: 0, actual: 'Virginica' }], ctx.server.apiHeaders);
    assert.equal(label.status, 200);
    await ctx.server.log!.flush();
    return (await fetch(`${ctx.server.url}/metrics`)).text();
  };

  const skip = needs(promtool, 'promtool (apt-get install prometheus)');
  test('a real scrape passes promtool check metrics (Debian prometheus) with no problem reported', { skip }, async () => {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: await scrape(), encoding: 'utf8' });
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'promtool reports nothing');
    assert.equal(r.status, 0);
  });

  test('prediction-log counts are counters beside the queued gauge; units in names; drift gauges carry the version', async () => {
    const families = new Map(parse(await scrape()).map((f) => [f.name, f]));
    const type = (name: string) => families.get(name)?.type;
    assert.equal(type('mlops_prediction_log_rows_written_total'), 'COUNTER');
    assert.equal(type('mlops_prediction_log_rows_dropped_total'), 'COUNTER');
    assert.equal(type('mlops_prediction_log_rows_queued'), 'GAUGE');
    assert.equal(families.has('mlops_prediction_log_rows'), false, 'no mixed gauge: written and dropped rows are counters');
    const written = families.get('mlops_prediction_log_rows_written_total')!.metrics[0] as { value: string };
    assert.ok(Number(written.value) >= 2, `written ${written.value}`);
    assert.equal(type('mlops_inference_batch_rows'), 'HISTOGRAM');
    const features = ['mlops_drift_feature_psi', 'mlops_drift_feature_ks', 'mlops_drift_feature_mean'];
    const classes = ['mlops_drift_class_psi', 'mlops_drift_class_js_distance', 'mlops_drift_class_share', 'mlops_drift_window_rows'];
    for (const name of [...features, ...classes]) {
      const metrics = families.get(name)?.metrics as { labels: Record<string, string> }[] | undefined;
      assert.ok(metrics && metrics.length > 0, name);
      for (const m of metrics) assert.deepEqual([m.labels.model, m.labels.version], ['iris', '1'], name);
    }
    for (const name of ['mlops_live_accuracy', 'mlops_live_macro_f1', 'mlops_live_recall', 'mlops_live_labelled_rows']) {
      assert.equal(type(name), 'GAUGE', name);
    }
    assert.equal(type('mlops_feedback_total'), 'COUNTER');
    assert.equal(type('mlops_label_delay_seconds'), 'HISTOGRAM');
  });
});
