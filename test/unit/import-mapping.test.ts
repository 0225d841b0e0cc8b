import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TensorType } from '../../common/contract';
import { chooseOutputs, classLabelsOf, probabilitiesOutput } from '../../pipeline/import/choose-outputs';
import { mapInputs } from '../../pipeline/import/map-inputs';
import type { OnnxFile, Port } from '../../pipeline/import/onnx-file';

const port = (name: string, type: TensorType, ...dims: (number | null)[]): Port => ({ name, kind: 'tensor', type, shape: [null, ...dims] });
const COLUMNS = ['a', 'b', 'c', 'colour', 'y'];

const refused = (code: string, message: RegExp) => (err: Error & { code?: string }) => {
  assert.equal(err.code, code, err.message);
  assert.match(err.message, message);
  return true;
};

describe('matching ONNX inputs to CSV columns', () => {
  test('per-column inputs by name, in the file’s input order', () => {
    const m = mapInputs('m.onnx', [port('colour', 'string', 1), port('a', 'float32', 1), port('b', 'int64')], COLUMNS, 'y');
    assert.deepEqual(m.inputs, [
      { name: 'colour', type: 'string', width: 1, rank: 2 },
      { name: 'a', type: 'float32', width: 1, rank: 2 },
      { name: 'b', type: 'int64', width: 1, rank: 1 },
    ]);
    assert.deepEqual(
      m.features.map((f) => [f.name, f.input, f.column]),
      [
        ['colour', 'colour', 0],
        ['a', 'a', 0],
        ['b', 'b', 0],
      ],
    );
  });

  test('one [N, F] input takes the --features columns in order; a symbolic width takes them too', () => {
    const m = mapInputs('m.onnx', [port('input', 'float32', 3)], COLUMNS, 'y', ['c', 'a', 'b']);
    assert.deepEqual(m.inputs, [{ name: 'input', type: 'float32', width: 3, rank: 2 }]);
    assert.deepEqual(
      m.features.map((f) => [f.name, f.column]),
      [
        ['c', 0],
        ['a', 1],
        ['b', 2],
      ],
    );
    assert.equal(mapInputs('m.onnx', [port('input', 'float32', null)], COLUMNS, 'y', ['a', 'b']).inputs[0].width, 2);
  });

  test('a mix: per-column inputs by name and one [N, F] input from --features', () => {
    const m = mapInputs('m.onnx', [port('numbers', 'float32', 2), port('colour', 'string', 1)], COLUMNS, 'y', ['a', 'b']);
    assert.deepEqual(
      m.features.map((f) => `${f.input}[${f.column}]=${f.name}`),
      ['numbers[0]=a', 'numbers[1]=b', 'colour[0]=colour'],
    );
  });

  test('what cannot be matched is refused, naming the inputs and the columns', () => {
    const columns = /to the CSV columns \[a, b, c, colour, y\]/;
    assert.throws(() => mapInputs('m.onnx', [port('input', 'float32', 4)], COLUMNS, 'y'), refused('IMPORT_UNMATCHED', columns));
    assert.throws(
      () => mapInputs('m.onnx', [port('input', 'float32', 4)], COLUMNS, 'y'),
      refused('IMPORT_UNMATCHED', /inputs "input" float32 \[N, 4\] .*name the 4 columns of input "input" in order with --features/),
    );
    assert.throws(
      () => mapInputs('m.onnx', [port('input', 'float32', 4)], COLUMNS, 'y', ['a', 'b']),
      refused('IMPORT_UNMATCHED', /--features lists 2 columns but input "input" takes 4/),
    );
    assert.throws(
      () => mapInputs('m.onnx', [port('input', 'float32', 2)], COLUMNS, 'y', ['a', 'z']),
      refused('IMPORT_UNMATCHED', /--features names 'z', not in the CSV/),
    );
    assert.throws(
      () => mapInputs('m.onnx', [port('a', 'float32', 1), port('rest', 'float32', 2)], COLUMNS, 'y', ['a', 'b']),
      refused('IMPORT_UNMATCHED', /column 'a' would feed two inputs/),
    );
    assert.throws(
      () => mapInputs('m.onnx', [port('image', 'float32', 3, 3)], COLUMNS, 'y'),
      refused('IMPORT_UNMATCHED', /"image" float32 \[N, 3, 3\] .*only inputs of shape \[N\] or \[N, F\]/),
    );
    assert.throws(
      () => mapInputs('m.onnx', [port('x1', 'float32', 1), port('x2', 'float32', 1)], COLUMNS, 'y'),
      refused('IMPORT_UNMATCHED', /inputs "x1" float32 \[N, 1\], "x2" float32 \[N, 1\] to the CSV columns/),
    );
    assert.throws(
      () => mapInputs('m.onnx', [port('y', 'float32', 1)], COLUMNS, 'y'),
      refused('IMPORT_UNMATCHED', /the target column 'y' cannot also be a feature/),
    );
  });
});

function onnxFile(outputs: Port[], extra: Partial<OnnxFile> = {}): OnnxFile {
  return { inputs: [], outputs, declaredLabels: new Map(), zipMap: null, bytes: new Uint8Array(), ...extra };
}

describe('what an imported model predicts', () => {
  const label = port('label', 'int64');
  const probabilities = port('probabilities', 'float32', 3);

  test('a label output means classification; a float [N] or [N, 1] output alone means regression', () => {
    const plan = chooseOutputs('m.onnx', onnxFile([label, probabilities]), undefined);
    assert.equal(plan.task, 'classification');
    assert.equal(probabilitiesOutput(onnxFile([label, probabilities]), label, 3), 'probabilities');
    assert.equal(probabilitiesOutput(onnxFile([label, probabilities]), label, 2), null);
    const regression = chooseOutputs('m.onnx', onnxFile([port('value', 'float32', 1)]), undefined);
    assert.deepEqual(regression.task === 'regression' && regression.value.name, 'value');
  });

  test('the wrong task is refused, naming the outputs', () => {
    assert.throws(
      () => chooseOutputs('m.onnx', onnxFile([port('logits', 'float32', 3)]), 'classification'),
      refused('IMPORT_TASK', /a classifier needs a label output .*\(its outputs: "logits" float32\)/),
    );
    assert.throws(
      () => chooseOutputs('m.onnx', onnxFile([port('logits', 'float32', 3)]), undefined),
      refused('IMPORT_TASK', /a regression model needs a float output of one value per row/),
    );
    assert.throws(
      () => chooseOutputs('m.onnx', onnxFile([label, probabilities]), 'regression'),
      refused('IMPORT_TASK', /"label" int64, "probabilities" float32/),
    );
  });

  test('class labels: declared by the graph, else the CSV’s, and what an int64 label holds', () => {
    const plan = (output: Port, declared: { labelKind: 'string' | 'int64'; labels: string[] } | null = null) =>
      ({ task: 'classification', label: output, declared }) as const;
    assert.deepEqual(classLabelsOf(plan(port('l', 'string')), ['x', 'y']), { labelKind: 'string', classLabels: ['x', 'y'] });
    assert.deepEqual(classLabelsOf(plan(label), ['10', '2']), { labelKind: 'int64', classLabels: ['2', '10'] });
    assert.deepEqual(classLabelsOf(plan(label), ['Setosa', 'Virginica']), { labelKind: 'index', classLabels: ['Setosa', 'Virginica'] });
    const declared = { labelKind: 'int64' as const, labels: ['0', '1'] };
    assert.deepEqual(classLabelsOf(plan(label, declared), ['no', 'yes']), { labelKind: 'index', classLabels: ['no', 'yes'] });
    assert.deepEqual(classLabelsOf(plan(label, declared), ['0', '1']), { labelKind: 'int64', classLabels: ['0', '1'] });
    const strings = { labelKind: 'string' as const, labels: ['b', 'a'] };
    assert.deepEqual(classLabelsOf(plan(port('l', 'string'), strings), ['a', 'b']), { labelKind: 'string', classLabels: ['b', 'a'] });
  });
});
