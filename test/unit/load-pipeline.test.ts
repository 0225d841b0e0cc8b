import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadPipeline } from '../../pipeline/runner/load';
import { ROOT, tempDataDir } from '../helpers/cli';

const SDK = path.join(ROOT, 'pipeline', 'sdk');

function pipelineFile(steps: string): string {
  const file = path.join(tempDataDir('mlops-pipe-'), 'p.ts');
  fs.writeFileSync(
    file,
    `import { definePipeline } from ${JSON.stringify(SDK)};\nexport default definePipeline({ name: 'p', params: {}, steps: ${steps} });\n`,
  );
  return file;
}

test('steps run dependencies first, in declaration order otherwise', () => {
  const loaded = loadPipeline(
    pipelineFile(`{ c: { needs: ['b'], run() {} }, a: { run() {} }, b: { needs: ['a'], run() {} }, d: { command: ['true'] } }`),
  );
  assert.deepEqual(loaded.order, ['a', 'b', 'c', 'd']);
  assert.equal(loaded.pipeline.name, 'p');
});

test('bad definitions are refused with the reason', () => {
  const cyclic = `{ a: { needs: ['b'], run() {} }, b: { needs: ['a'], run() {} } }`;
  assert.throws(() => loadPipeline(pipelineFile(cyclic)), /cycle: a → b → a/);
  assert.throws(() => loadPipeline(pipelineFile(`{ a: { needs: ['zzz'], run() {} } }`)), /step 'a' needs unknown step 'zzz'/);
  assert.throws(() => loadPipeline(pipelineFile(`{}`)), /it has no steps/);
  assert.throws(() => loadPipeline(pipelineFile(`{ a: { needs: [] } }`)), /step 'a' needs a run function, a command or a notebook/);
  const notAPipeline = path.join(tempDataDir(), 'x.ts');
  fs.writeFileSync(notAPipeline, 'export const x = 1;\n');
  assert.throws(() => loadPipeline(notAPipeline), /must export default definePipeline/);
  const broken = path.join(tempDataDir(), 'broken.ts');
  fs.writeFileSync(broken, 'export default {{{;\n');
  assert.throws(() => loadPipeline(broken), /cannot load pipeline .*broken\.ts: /);
});
