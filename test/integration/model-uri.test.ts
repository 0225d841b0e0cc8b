// `models:/name/version` and `models:/name@alias` (what VS Code's "Copy Model URI" copies) work
// wherever a model is named: the CLI, `mlops serve`, the HTTP API. Real CLI, server and registry.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AliasMove, ModelVersion } from '../../common/contract';
import { json, mlops, mlopsAsync, tempDataDir } from '../helpers/cli';
import { freePort } from '../helpers/net';
import { apiTokenHeader } from '../../common/api-token';

describe('model URIs', () => {
  const dir = tempDataDir();
  for (const trainer of ['random_forest', 'logistic_regression']) {
    const r = mlops(dir, ['train', '-q', '--param', `trainer=${trainer}`]);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  mlops(dir, ['models', 'promote', 'iris', '1']);

  test('mlops models show and promote take them; a bad one is a usage error (exit 2, one line)', () => {
    assert.equal(json<ModelVersion>(mlops(dir, ['models', 'show', 'models:/iris/2', '--json'])).version, 2);
    assert.equal(json<ModelVersion>(mlops(dir, ['models', 'show', 'models:/iris@production', '--json'])).version, 1);
    assert.equal(json<ModelVersion>(mlops(dir, ['models', 'show', 'models:/iris/latest', '--json'])).version, 2);
    const move = json<AliasMove>(mlops(dir, ['models', 'promote', 'models:/iris/2', '--alias', 'staging', '--json']));
    assert.deepEqual([move.alias, move.toVersion], ['staging', 2]);
    const viaAlias = json<AliasMove>(mlops(dir, ['models', 'promote', 'models:/iris@staging', '--alias', 'canary', '--json']));
    assert.deepEqual([viaAlias.alias, viaAlias.toVersion], ['canary', 2]);
    assert.ok(json<AliasMove[]>(mlops(dir, ['models', 'history', 'models:/iris@canary', '--json'])).some((m) => m.alias === 'canary'));

    const bad = mlops(dir, ['models', 'show', 'models:/iris']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(
      bad.stderr,
      /invalid model URI 'models:\/iris': name a version or an alias after the model \(expected models:\/<name>\/<version>/,
    );
    for (const args of [['iris'], ['models:/iris/2', '2']]) {
      const r = mlops(dir, ['models', 'promote', ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /^error: (missing argument 'version'|models:\/iris\/2 already names a version)/);
    }
  });

  /** `mlops serve <args>` until it says what it serves; then the caller's checks; then SIGTERM. */
  async function serving(
    args: string[],
    check: (url: string, said: string) => Promise<void>,
    env: Record<string, string> = {},
  ): Promise<void> {
    const port = await freePort();
    const server = mlopsAsync(dir, ['serve', ...args, '--port', String(port)], { MLOPS_REQUEST_LOG: 'false', ...env });
    try {
      const end = Date.now() + 30_000;
      while (!/serving .* on http/.test(server.stderr())) {
        if (Date.now() > end || server.child.exitCode !== null) throw new Error(`mlops serve did not start: ${server.stderr()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await check(`http://127.0.0.1:${port}`, server.stderr());
    } finally {
      server.child.kill('SIGTERM');
      await server.done;
    }
  }

  test('mlops serve takes one, as `mlflow models serve -m` does (positional or -m)', async () => {
    await serving(['models:/iris/1'], async (_url, said) => assert.match(said, /serving iris version 1 on/));
    await serving(['-m', 'models:/iris@staging'], async (_url, said) => assert.match(said, /serving iris version 2 on/));
    await serving([], async (_url, said) => assert.match(said, /serving iris version 2 on/), { MLOPS_MODEL: 'models:/iris@staging' });
    await serving([], async (_url, said) => assert.match(said, /serving iris version 1 on/), { MLOPS_MODEL: 'models:/iris/1' });
    const bad = mlops(dir, ['serve', 'models:/iris/Production']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /for an alias write models:\/iris@production/);
    const twice = mlops(dir, ['serve', 'models:/iris/1', '--version', '2']);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /already says which version/);
  });

  test('GET /api/models/{uri} answers that version; a bad URI is a 400 naming it', async () => {
    await serving([], async (url) => {
      const get = async (ref: string) => {
        const res = await fetch(`${url}/api/models/${encodeURIComponent(ref)}`, { headers: apiTokenHeader(dir) });
        return { status: res.status, body: (await res.json()) as ModelVersion & { code?: string; error?: string } };
      };
      assert.equal((await get('models:/iris/1')).body.version, 1);
      assert.equal((await get('models:/iris@staging')).body.version, 2);
      assert.equal((await get('iris/2')).body.version, 2);
      assert.ok(Array.isArray(((await get('iris')).body as unknown as { versions: unknown[] }).versions));
      const bad = await get('models:/iris');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'BAD_MODEL_URI');
      assert.match(bad.body.error ?? '', /invalid model URI 'models:\/iris'/);
      assert.equal((await get('models:/iris/9')).status, 404);
    });
  });
});
