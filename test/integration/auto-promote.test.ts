import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChallengerInfo } from '../../common/contract';
import { mlops, tempDataDir } from '../helpers/cli';
import { irisRows } from '../helpers/loop';
import { getJson, post, startTestServer, trainIris, waitFor, type TestServer } from '../helpers/server';

// MLOPS_AUTO_PROMOTE in the real server: the challenger in shadow is promoted without a person once its
// live accuracy is at least the champion's over the rule's labelled rows, and not before.
const ROWS = irisRows();

describe('auto-promote (MLOPS_AUTO_PROMOTE=live_accuracy:100)', () => {
  let dir = '';
  let s: TestServer;

  before(async () => {
    dir = tempDataDir();
    // The champion a logistic regression, the challenger a forest: on the iris rows the forest is at least as accurate.
    trainIris(dir, ['trainer=logistic_regression'], ['trainer=random_forest']);
    assert.equal(mlops(dir, ['models', 'promote', 'iris', '1']).code, 0);
    assert.equal(mlops(dir, ['models', 'promote', 'iris', '2', '--alias', 'challenger']).code, 0);
    s = await startTestServer(dir, { MLOPS_AUTO_PROMOTE: 'live_accuracy:100' });
  });
  after(() => s.close());

  test('no promotion without labels; promoted once both versions have 100 labelled rows and the challenger is as good', async () => {
    const challenger = () => getJson<ChallengerInfo | null>(`${s.url}/api/challenger`, s.apiHeaders);
    await waitFor('the challenger in shadow', async () => ((await challenger())?.serving.version === 2 ? true : undefined));
    const feedback: { requestId: string; row: number; actual: string }[] = [];
    for (let i = 0; i < ROWS.length; i += 10) {
      const batch = ROWS.slice(i, i + 10);
      const res = await post(
        `${s.url}/predict`,
        batch.map((b) => b.record),
        { 'x-request-id': `auto-${i}` },
      );
      assert.equal(res.status, 200);
      batch.forEach((b, row) => feedback.push({ requestId: `auto-${i}`, row, actual: b.label }));
    }
    await waitFor('the shadow runs', async () => ((await challenger())!.comparedRows >= ROWS.length ? true : undefined));
    await new Promise((r) => setTimeout(r, 1500)); // a few auto-promote checks without labels
    assert.equal(s.holder.current()?.info.version, 1, 'not promoted without labels');
    await waitFor('feedback stored', async () =>
      (await post(`${s.url}/feedback`, feedback, s.apiHeaders)).status === 200 ? true : undefined,
    );
    await waitFor('version 2 served', () => (s.holder.current()?.info.version === 2 ? true : undefined));
    const history = (await s.registry.models.history('iris')).slice(-2);
    assert.deepEqual(
      history.map((m) => [m.alias, m.fromVersion, m.toVersion, m.removed ?? false]),
      [
        ['production', 1, 2, false],
        ['challenger', 2, 2, true],
      ],
    );
    assert.match(
      history[0].by,
      /^auto-promote \(MLOPS_AUTO_PROMOTE\): live accuracy [\d.]+ ≥ champion's [\d.]+ over 150 and 150 labelled rows$/,
    );
  });
});
