// What an imported model predicts, from its tensor outputs: a classifier has a label output (string
// or int64, one per row) and maybe a probabilities output (float [N, classes], a ZipMap's input after
// the rewrite); a regressor has a float output of one value per row. The task is the one asked for,
// else classification when there is a label output, else regression.
import type { ClassificationSignature, ModelTask } from '../../common/contract';
import { errors } from '../../common/errors';
import type { OnnxFile, Port } from './onnx-file';

export type OutputPlan =
  | {
      task: 'classification';
      label: Port;
      /** Class labels the graph declares (ZipMap or an ai.onnx.ml classifier), else null: the CSV's then. */
      declared: { labelKind: 'string' | 'int64'; labels: string[] } | null;
    }
  | { task: 'regression'; value: Port };

/** One value per row: [N] or [N, 1]. */
function perRow(port: Port): boolean {
  return port.shape === null || port.shape.length === 1 || (port.shape.length === 2 && port.shape[1] === 1);
}

const isLabel = (p: Port) => (p.type === 'string' || p.type === 'int64') && perRow(p);
const isFloat = (p: Port) => p.type === 'float32' || p.type === 'float64';

export function chooseOutputs(file: string, onnx: OnnxFile, task: ModelTask | undefined): OutputPlan {
  const outputs = onnx.outputs.map((p) => `"${p.name}" ${p.type}`).join(', ');
  const label = onnx.outputs.find(isLabel);
  const chosen = task ?? (label ? 'classification' : 'regression');
  if (chosen === 'classification') {
    if (!label) {
      throw errors.importTask(
        file,
        'a classifier needs a label output (string or int64, one per row); export the predicted class (e.g. its argmax) too',
        outputs,
      );
    }
    return { task: 'classification', label, declared: onnx.zipMap ?? onnx.declaredLabels.get(label.name) ?? null };
  }
  if (chosen !== 'regression') throw errors.badOption('--task', 'classification or regression', String(chosen));
  const value = onnx.outputs.find((p) => isFloat(p) && perRow(p));
  if (!value) throw errors.importTask(file, 'a regression model needs a float output of one value per row ([N] or [N, 1])', outputs);
  return { task: 'regression', value };
}

/** The probabilities output of a classifier with `classes` labels: the ZipMap's input, else a float [N, classes] output. */
export function probabilitiesOutput(onnx: OnnxFile, label: Port, classes: number): string | null {
  if (onnx.zipMap) return onnx.zipMap.probabilities;
  const p = onnx.outputs.find((o) => o !== label && isFloat(o) && o.shape?.length === 2 && o.shape[1] === classes);
  return p?.name ?? null;
}

/**
 * labelKind and class labels: as the graph declares them (indexes 0…k-1 over string classes name
 * the sorted CSV classes); else from the CSV's target values
 * (`categories`, sorted): a string output holds the labels, an int64 output holds class values when
 * every target value is a whole number, else indexes into the sorted labels (a torch argmax).
 */
export function classLabelsOf(
  plan: Extract<OutputPlan, { task: 'classification' }>,
  categories: string[],
): Pick<ClassificationSignature, 'labelKind' | 'classLabels'> {
  const whole = categories.every((c) => /^-?\d+$/.test(c));
  const declared = plan.declared;
  // Class indexes 0…k-1 declared over string classes (as this project's own exports declare them): the sorted names.
  const indexes = declared?.labelKind === 'int64' && !whole && declared.labels.every((l, i) => l === String(i));
  if (declared && indexes && declared.labels.length === categories.length) return { labelKind: 'index', classLabels: categories };
  if (declared) return { labelKind: declared.labelKind, classLabels: declared.labels };
  if (plan.label.type === 'string') return { labelKind: 'string', classLabels: categories };
  if (whole) return { labelKind: 'int64', classLabels: [...categories].sort((a, b) => Number(a) - Number(b)) };
  return { labelKind: 'index', classLabels: categories };
}
