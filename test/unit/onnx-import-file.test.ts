import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { onnx } from '../../common/onnx/onnx.js';
import { readOnnxFile } from '../../pipeline/import/onnx-file';
import { needs, tempDataDir } from '../helpers/cli';
import { sequenceOutputModel, sklearnShapedModel } from '../helpers/import';
import { debianPython, runPython, TORCH_EXPORT } from '../helpers/python';

const work = tempDataDir('mlops-onnx-');
const torch = debianPython('torch');
const onnxPython = debianPython('onnx');
const sklearnShaped = (name: string, ...flags: string[]) => sklearnShapedModel(onnxPython!, work, name, ...flags);

describe('the ONNX protobuf module (current schema, common/onnx)', () => {
  test(
    'a decode and re-encode of a torch export gives the same bytes',
    { skip: needs(torch !== null, 'Debian python3-torch (/usr/bin/python3)') },
    () => {
      const file = path.join(work, 'torch.onnx');
      runPython(torch!, ['-c', TORCH_EXPORT, file]);
      const bytes = fs.readFileSync(file);
      const model = onnx.ModelProto.decode(bytes);
      assert.equal(model.graph?.node?.length, 3);
      assert.deepEqual(Buffer.from(onnx.ModelProto.encode(model).finish()), bytes);
      // No rewrite: the import registers the file's own bytes.
      const read = readOnnxFile(file, bytes);
      assert.equal(read.bytes, bytes);
      assert.deepEqual(read.inputs, [{ name: 'input', kind: 'tensor', type: 'float32', shape: [null, 4] }]);
      assert.deepEqual(read.outputs, [{ name: 'output', kind: 'tensor', type: 'float32', shape: [null, 3] }]);
    },
  );
});

describe('the ZipMap rewrite', { skip: needs(onnxPython !== null, 'Debian python3-onnx (/usr/bin/python3)') }, () => {
  test('the ZipMap node goes, its input becomes the probabilities output; every other node keeps its bytes', async () => {
    const file = sklearnShaped('zipmap.onnx');
    const bytes = fs.readFileSync(file);
    const read = readOnnxFile(file, bytes);
    assert.deepEqual(read.zipMap, {
      removed: 'output_probability',
      probabilities: 'probabilities',
      labelKind: 'string',
      labels: ['a', 'b', 'c'],
    });
    assert.deepEqual(
      read.outputs.map((o) => [o.name, o.type, o.shape]),
      [
        ['output_label', 'string', [null]],
        ['probabilities', 'float32', [null, 3]],
      ],
    );
    assert.deepEqual(
      read.inputs.map((i) => [i.name, i.type, i.shape]),
      [
        ['x1', 'float32', [null, 1]],
        ['x2', 'float32', [null, 1]],
        ['colour', 'string', [null, 1]],
      ],
    );
    assert.deepEqual(read.declaredLabels.get('output_label'), { labelKind: 'string', labels: ['a', 'b', 'c'] });

    const before = onnx.ModelProto.decode(bytes).graph!;
    const after = onnx.ModelProto.decode(read.bytes).graph!;
    const encodeNode = (n: onnx.INodeProto) => Buffer.from(onnx.NodeProto.encode(n).finish());
    assert.deepEqual((after.node ?? []).map(encodeNode), (before.node ?? []).filter((n) => n.opType !== 'ZipMap').map(encodeNode));
    const encodeInfo = (v: onnx.IValueInfoProto) => Buffer.from(onnx.ValueInfoProto.encode(v).finish());
    assert.deepEqual((after.input ?? []).map(encodeInfo), (before.input ?? []).map(encodeInfo));
    assert.deepEqual(encodeInfo(after.output![0]), encodeInfo(before.output![0]));
    // Everything outside the graph's nodes and outputs is untouched, byte for byte.
    const rest = (b: Uint8Array) => {
      const copy = onnx.ModelProto.decode(b);
      copy.graph!.node = [];
      copy.graph!.output = [];
      return Buffer.from(onnx.ModelProto.encode(copy).finish());
    };
    assert.deepEqual(rest(read.bytes), rest(bytes));

    // onnxruntime-node returns both outputs of the rewritten model (it cannot return the ZipMap's).
    const session = await ort.InferenceSession.create(read.bytes);
    const out = await session.run({
      x1: new ort.Tensor('float32', [5, 0], [2, 1]),
      x2: new ort.Tensor('float32', [0, 5], [2, 1]),
      colour: new ort.Tensor('string', ['blue', 'blue'], [2, 1]),
    });
    assert.deepEqual([...(out.output_label.data as string[])], ['a', 'b']);
    assert.deepEqual(out.probabilities.dims, [2, 3]);
  });

  test('int64 class labels come from classlabels_int64s', () => {
    const file = sklearnShaped('zipmap-int.onnx', '--int-labels');
    const read = readOnnxFile(file, fs.readFileSync(file));
    assert.deepEqual(read.zipMap?.labels, ['10', '20', '30']);
    assert.equal(read.zipMap?.labelKind, 'int64');
    assert.equal(read.outputs[0].type, 'int64');
  });
});

describe('files the import refuses', () => {
  test('a non-tensor output other than a ZipMap is refused, named with its type', () => {
    assert.throws(
      () => readOnnxFile('seq.onnx', fs.readFileSync(sequenceOutputModel(work, 'seq.onnx'))),
      (err: Error & { code?: string }) =>
        err.code === 'ONNX_NON_TENSOR' && /seq\.onnx: output "items" is a sequence of float tensor; only tensors/.test(err.message),
    );
  });

  test('bytes that are not an ONNX model are refused in one line', () => {
    assert.throws(
      () => readOnnxFile('notes.txt', Buffer.from('hello, this is not protobuf')),
      (err: Error & { code?: string }) => err.code === 'ONNX_FILE' && /^notes\.txt: not an ONNX model/.test(err.message),
    );
  });
});
