// Models trained elsewhere, made for the import tests with Debian's Python (no pip): the PyTorch
// example's train.py, and a scikit-learn-shaped ONNX (test/helpers/sklearn_shaped_onnx.py) with the
// CSV its rule labels.
import fs from 'node:fs';
import path from 'node:path';
import { onnx } from '../../common/onnx/onnx.js';
import { ROOT } from './cli';
import { runPython } from './python';

export const TORCH_TRAIN = path.join(ROOT, 'pipeline', 'examples', 'pytorch', 'train.py');
export const IRIS_FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

/** The PyTorch example trained on a CSV: train.py DATA TARGET OUT [flags]. */
export function torchModel(python: string, dir: string, name: string, data: string, target: string, ...flags: string[]): string {
  const out = path.join(dir, name);
  runPython(python, [TORCH_TRAIN, data, target, out, ...flags]);
  return out;
}

/** The scikit-learn-shaped classifier (per-column inputs x1, x2, colour; ZipMap output). */
export function sklearnShapedModel(python: string, dir: string, name: string, ...flags: string[]): string {
  const out = path.join(dir, name);
  runPython(python, [path.join(ROOT, 'test', 'helpers', 'sklearn_shaped_onnx.py'), out, ...flags]);
  return out;
}

const COLOURS = ['blue', 'green', 'red'];

/** The class sklearn_shaped_onnx.py's coefficients give: the largest of a = x1, b = x2, c = 3 if red. */
export function sklearnShapedLabel(x1: number, x2: number, colour: string): string {
  const scores = [x1, x2, colour === 'red' ? 3 : 0];
  return ['a', 'b', 'c'][scores.indexOf(Math.max(...scores))];
}

/** n rows x1,x2,colour,label labelled by that rule (int labels 10, 20, 30 with `intLabels`). */
export function sklearnShapedCsv(dir: string, name: string, n = 120, intLabels = false): string {
  const lines = ['x1,x2,colour,label'];
  for (let i = 0; i < n; i++) {
    const x1 = ((i * 37) % 50) / 10;
    const x2 = ((i * 53) % 50) / 10;
    const colour = COLOURS[i % 3];
    const label = sklearnShapedLabel(x1, x2, colour);
    lines.push(`${x1},${x2},${colour},${intLabels ? { a: 10, b: 20, c: 30 }[label] : label}`);
  }
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** A model whose output is a sequence of tensors: a non-tensor output that is not a ZipMap. */
export function sequenceOutputModel(dir: string, name: string): string {
  const tensor = { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 1 }] } };
  const bytes = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: [{ opType: 'SequenceConstruct', input: ['x1'], output: ['items'] }],
      input: [{ name: 'x1', type: { tensorType: tensor } }],
      output: [{ name: 'items', type: { sequenceType: { elemType: { tensorType: tensor } } } }],
    },
  }).finish();
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}
