// What the runs tree lists under a step and how it opens it, and the read-only notebook
// serializer's reading of a notebook really executed by Jupyter (nbclient, ipykernel).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { StepRecord } from '../../common/contract';
import { isMlopsError } from '../../common/errors';
import { stepFiles, viewerFor } from '../../extension/artifacts/artifact-files';
import { parseIpynb } from '../../extension/artifacts/ipynb';
import { needs, tempDataDir } from '../helpers/cli';

const step = (more: Partial<StepRecord>): StepRecord => ({
  name: 'train',
  index: 1,
  status: 'succeeded',
  startedAt: null,
  endedAt: null,
  durationMs: 1,
  logFile: '/runs/r/train.log',
  error: null,
  kind: 'notebook',
  needs: [],
  cachedFrom: null,
  artifacts: [],
  notebook: null,
  ...more,
});

test("a step's files: its executed notebook, then its artifacts; none outside the run folder", () => {
  const files = stepFiles(
    '/data/runs/r1',
    step({ notebook: 'train.ipynb', artifacts: ['model.onnx', 'plots/loss.svg', '../../etc/passwd'] }),
  );
  assert.deepEqual(files, [
    { label: 'train.ipynb', file: '/data/runs/r1/train.ipynb', notebook: true },
    { label: 'model.onnx', file: '/data/runs/r1/artifacts/model.onnx', notebook: false },
    { label: 'plots/loss.svg', file: '/data/runs/r1/artifacts/plots/loss.svg', notebook: false },
  ]);
  assert.deepEqual(stepFiles('/data/runs/r1', step({ notebook: '../other/x.ipynb' })), []);
});

test('each kind of file opens in the editor that suits it', () => {
  assert.equal(viewerFor('/r/train.ipynb'), 'notebook');
  assert.equal(viewerFor('/r/a/confusion_matrix.SVG'), 'image');
  assert.equal(viewerFor('/r/a/x.png'), 'image');
  assert.equal(viewerFor('/r/a/train.csv'), 'text');
  assert.equal(viewerFor('/r/a/metrics.json'), 'text');
  assert.equal(viewerFor('/r/a/model.onnx'), 'default');
});

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>';
/** A 1×1 PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const EXECUTE = `
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.v4.new_notebook(cells=[
    nbformat.v4.new_markdown_cell('# Train'),
    nbformat.v4.new_code_cell('print("hello")\\nimport sys; print("careful", file=sys.stderr)'),
    nbformat.v4.new_code_cell('from IPython.display import SVG, Image, display\\nimport base64\\n'
                              'display(SVG(' + repr(${JSON.stringify(SVG)}) + '))\\n'
                              'display(Image(data=base64.b64decode("${PNG}"), format="png"))\\n6 * 7'),
    nbformat.v4.new_code_cell('1 / 0'),
])
nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
NotebookClient(nb, timeout=60, kernel_name='python3', allow_errors=True).execute()
nbformat.write(nb, sys.argv[1])
`;
const jupyter = spawnSync('/usr/bin/python3', ['-c', 'import nbclient, nbformat, ipykernel']).status === 0;

test(
  'an executed notebook reads as cells with their text, image and error outputs',
  { skip: needs(jupyter, 'Python with nbclient and ipykernel') },
  () => {
    const file = path.join(tempDataDir('mlops-ipynb-'), 'train.ipynb');
    const r = spawnSync('/usr/bin/python3', ['-c', EXECUTE, file], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const nb = parseIpynb(fs.readFileSync(file), file);
    assert.equal(nb.language, 'python');
    assert.deepEqual(
      nb.cells.map((c) => [c.kind, c.source.split('\n')[0], c.executionCount]),
      [
        ['markdown', '# Train', null],
        ['code', 'print("hello")', 1],
        ['code', 'from IPython.display import SVG, Image, display', 2],
        ['code', '1 / 0', 3],
      ],
    );
    const text = (d: Uint8Array) => Buffer.from(d).toString('utf8');
    const [, printed, pictures, failed] = nb.cells.map((c) => c.outputs);
    assert.deepEqual(
      printed.map((o) => o.map((i) => [i.mime, text(i.data)])),
      [[['application/vnd.code.notebook.stdout', 'hello\n']], [['application/vnd.code.notebook.stderr', 'careful\n']]],
    );
    assert.deepEqual(
      pictures.map((o) => o.map((i) => i.mime)),
      [['image/svg+xml', 'text/plain'], ['image/png', 'text/plain'], ['text/plain']],
    );
    assert.match(text(pictures[0][0].data), /<svg/);
    assert.deepEqual([...pictures[1][0].data.subarray(1, 4)], [...Buffer.from('PNG')], 'PNG bytes, decoded from base64');
    assert.equal(text(pictures[2][0].data), '42');
    const error = JSON.parse(text(failed[0][0].data)) as { name: string; message: string; stack: string };
    assert.equal(failed[0][0].mime, 'application/vnd.code.notebook.error');
    assert.deepEqual([error.name, error.message], ['ZeroDivisionError', 'division by zero']);
  },
);

test('a file that is not a notebook is refused with one line naming it', () => {
  for (const [content, reason] of [
    ['{"cells": ', /x\.ipynb: not a notebook \(invalid JSON/],
    ['{"nbformat": 4}', /x\.ipynb: not a notebook \(no "cells" list\)/],
  ] as const)
    assert.throws(
      () => parseIpynb(Buffer.from(content), 'x.ipynb'),
      (err: unknown) => isMlopsError(err) && err.code === 'NOTEBOOK_COPY' && reason.test(err.message),
    );
});
