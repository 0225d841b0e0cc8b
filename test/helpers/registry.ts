import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runLeaseName, type NewVersion, type Registry, type SqliteRegistry } from '../../common/registry';
import { runnerHost } from '../../common/registry/runs';
import { tabularInput } from '../../common/signature';

/** The SQLite connection of a registry, for tests that prove what the database itself enforces. */
export function sqliteDb(registry: Registry): SqliteRegistry['db'] {
  if (registry.backend !== 'sqlite') throw new Error(`this test needs the SQLite registry, not ${registry.backend}`);
  return (registry as SqliteRegistry).db;
}

/** A version to register: a stand-in ONNX file of its own in `dir` and a classification signature. */
export function newVersion(dir: string, model = 'iris'): NewVersion {
  const file = path.join(dir, `upload-${crypto.randomUUID()}.onnx`);
  fs.writeFileSync(file, `not really onnx ${crypto.randomUUID()}`);
  return {
    model,
    onnxFile: file,
    signature: {
      ...tabularInput('input', 'float32', [{ name: 'x', min: 0, max: 1 }]),
      task: 'classification',
      target: 'y',
      labelOutput: 'label',
      labelKind: 'index',
      probabilitiesOutput: 'probabilities',
      classLabels: ['a', 'b'],
    },
    metrics: { accuracy: 0.95 },
    params: { seed: 1 },
    lineage: { runId: null, pipeline: null, git: { commit: null, branch: null, dirty: null }, dataFiles: [] },
    reference: { rows: 0, features: [], classShares: [0.5, 0.5] },
  };
}

/**
 * How either backend judges runs left "running" (runs.ts abandoned), checked the same way on both:
 * `r` records three runs with a dead pid, made to look like this host's, another host's (whose runner
 * renews its lease) and an old one's (no host); `reopen` opens the registry as a replica's start does;
 * `sql` runs a statement on the backend's own connection, standing in for the other host.
 */
export async function checkRunJudgement(
  r: Registry,
  reopen: () => Promise<Registry>,
  sql: (statement: string) => Promise<unknown>,
): Promise<void> {
  const git = { commit: null, branch: null, dirty: null };
  const deadPid = 2 ** 22 + 1; // above pid_max: no process has it on this host
  for (const id of ['here', 'there', 'older']) {
    await r.runs.create({ id, pipeline: 'p', pipelineFile: '/p.ts', params: {}, runDir: r.runDir(id), pid: deadPid, git }, []);
  }
  assert.equal((await r.runs.get('here')).host, runnerHost(), 'a run records its host');
  // A runner on another host shares the database and renews its lease; a run recorded before schema 6 has no host.
  await sql(`UPDATE runs SET host = 'another-host' WHERE id = 'there'`);
  await sql(`UPDATE runs SET host = NULL WHERE id = 'older'`);
  assert.equal(await r.leases.acquire(runLeaseName('there'), 'another-host:7', 60_000), true);

  const replica = await reopen(); // recovers, as every start does
  assert.equal((await replica.runs.get('here')).status, 'failed');
  assert.equal((await replica.runs.get('older')).status, 'failed', 'no host: judged here, as before hosts were recorded');
  const there = await replica.runs.get('there');
  assert.deepEqual([there.status, there.host], ['running', 'another-host'], "another host's pid is not judged here");
  assert.deepEqual(await replica.runs.recoverInterrupted(() => false), [], 'not even by a caller that calls every pid dead');
  // Its runner died (a killed pod): no more renewals, and the lease lapses.
  await sql(`UPDATE leases SET expires_at = expires_at - 60000 WHERE name = 'run:there'`);
  assert.deepEqual(await replica.runs.recoverInterrupted(), ['there']);
  assert.match((await replica.runs.get('there')).error ?? '', /ended without finishing the run/);
  await replica.close();
}

/** Lease semantics, checked the same way on either backend. */
export async function checkLeases(r: Registry): Promise<void> {
  assert.equal(await r.leases.acquire('job:a', 'h1', 60_000), true, 'free: taken');
  assert.equal(await r.leases.acquire('job:a', 'h2', 60_000), false, "another's live lease: refused");
  assert.equal(await r.leases.acquire('job:a', 'h1', 60_000), true, 'its holder renews it');
  await r.leases.release('job:a', 'h2');
  assert.deepEqual(
    (await r.leases.live('job:')).map((l) => [l.name, l.holder]),
    [['job:a', 'h1']],
    'a release by another holder leaves it',
  );
  const [{ remainingMs }] = await r.leases.live('job:a');
  assert.ok(remainingMs > 50_000 && remainingMs <= 60_000, `${remainingMs} ms left`);
  await r.leases.release('job:a', 'h1');
  assert.equal(await r.leases.acquire('job:a', 'h2', 60_000), true, 'released: free');

  assert.equal(await r.leases.acquire('job:b', 'h1', 1), true);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(await r.leases.live('job:b'), [], 'expired: not live');
  assert.equal(await r.leases.acquire('job:b', 'h2', 60_000), true, 'expired: free');
  assert.deepEqual(
    (await r.leases.live('job:')).map((l) => l.name),
    ['job:a', 'job:b'],
  );
  assert.deepEqual(await r.leases.live('other:'), []);
}
