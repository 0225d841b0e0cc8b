// The step cache's building blocks (pipeline/runner/cache-keys.ts), on real files and modules.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { describe, test } from 'node:test';
import { require as tsRequire } from 'tsx/cjs/api';
import { FileHashes, isPlainData, linkOrCopy, moduleGraphFiles, stableJson, trackReads } from '../../pipeline/runner/cache-keys';

const ROOT = path.resolve(__dirname, '..', '..');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-cache-keys-'));

describe('trackReads', () => {
  test('records the params a step reads, and all of them when it spreads them', () => {
    const t = trackReads({ a: 1, b: 'x', c: true });
    assert.equal(t.params.a, 1);
    assert.equal('b' in t.params, true);
    assert.equal((t.params as Record<string, unknown>).nope, undefined);
    assert.deepEqual([...t.read].sort(), ['a', 'b']);
    const all = trackReads({ a: 1, b: 'x', c: true });
    assert.deepEqual({ ...all.params }, { a: 1, b: 'x', c: true });
    assert.deepEqual([...all.read].sort(), ['a', 'b', 'c']);
  });
});

describe('isPlainData', () => {
  class Model {
    predict(): number {
      return 1;
    }
  }
  test('plain data survives v8 serialization; class instances, functions and Buffers do not count', () => {
    const plain = { rows: [1, 2, { x: new Float64Array([1.5]) }], at: new Date(0), m: new Map([['k', new Set([1])]]), n: null };
    assert.equal(isPlainData(plain), true);
    assert.deepEqual(v8.deserialize(v8.serialize(plain)), plain);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    assert.equal(isPlainData(cyclic), true);
    assert.equal(isPlainData(new Model()), false);
    assert.equal(isPlainData({ nested: [new Model()] }), false);
    assert.equal(isPlainData({ f: () => 1 }), false);
    assert.equal(isPlainData(Buffer.from('x')), false);
    assert.equal(isPlainData(Symbol('s')), false);
  });
});

describe('files', () => {
  test('FileHashes: a sha256 per file that follows its content, "missing", and folders by their listing', () => {
    const dir = tmp();
    const file = path.join(dir, 'a.txt');
    const hashes = new FileHashes();
    assert.equal(hashes.of(file), 'missing');
    fs.writeFileSync(file, 'one');
    const one = hashes.of(file);
    assert.match(one, /^[0-9a-f]{64}$/);
    fs.rmSync(file);
    fs.writeFileSync(file, 'two');
    assert.notEqual(hashes.of(file), one);
    assert.match(hashes.of(dir), /^folder:[0-9a-f]{64}$/);
  });

  test('linkOrCopy makes a hard link and leaves the source in place', () => {
    const dir = tmp();
    const src = path.join(dir, 'src.bin');
    fs.writeFileSync(src, 'data');
    const dest = path.join(dir, 'deep', 'dest.bin');
    assert.equal(linkOrCopy(src, dest), 'linked');
    assert.equal(fs.statSync(dest).ino, fs.statSync(src).ino);
    assert.equal(fs.readFileSync(src, 'utf8'), 'data');
  });

  test('linkOrCopy copies when the file system refuses a link (/dev/shm is another device when it is mounted)', (t) => {
    if (!fs.existsSync('/dev/shm') || fs.statSync('/dev/shm').dev === fs.statSync(os.tmpdir()).dev) {
      t.skip('no second file system here');
      return;
    }
    const src = path.join(tmp(), 'src.bin');
    fs.writeFileSync(src, 'data');
    const other = fs.mkdtempSync('/dev/shm/mlops-cache-keys-');
    t.after(() => fs.rmSync(other, { recursive: true, force: true }));
    const dest = path.join(other, 'dest.bin');
    assert.equal(linkOrCopy(src, dest), 'copied');
    assert.equal(fs.readFileSync(dest, 'utf8'), 'data');
    assert.ok(fs.existsSync(src));
  });
});

describe('moduleGraphFiles', () => {
  test('the iris pipeline and the project modules it imports, not node_modules', () => {
    const entry = path.join(ROOT, 'pipeline', 'examples', 'iris', 'pipeline.ts');
    tsRequire(entry, __filename);
    const files = moduleGraphFiles(entry);
    assert.ok(files.includes(entry));
    assert.ok(files.includes(path.join(ROOT, 'pipeline', 'steps', 'train.ts')));
    assert.ok(files.includes(path.join(ROOT, 'pipeline', 'ml', 'trees', 'boosting.ts')));
    assert.ok(files.every((f) => !f.includes(`${path.sep}node_modules${path.sep}`) && !f.includes('?')));
  });
});

test('stableJson does not depend on key order', () => {
  assert.equal(stableJson({ b: 1, a: { d: [1, { f: 1, e: 2 }], c: 2 } }), stableJson({ a: { c: 2, d: [1, { e: 2, f: 1 }] }, b: 1 }));
});
