// Which CSV column feeds which ONNX input of an imported model: an input named after a column takes
// it ([N] or [N, 1], what scikit-learn pipelines with a ColumnTransformer export), and one [N, F]
// input takes the columns listed by --features, in that order (what torch.onnx.export makes). A mix
// of both works. What cannot be matched is refused, naming the inputs and the columns.
import type { FeatureSpec, InputSpec } from '../../common/contract';
import { errors } from '../../common/errors';
import type { Port } from './onnx-file';

/** An input's feature columns before their training statistics are known. */
export type MappedFeature = Pick<FeatureSpec, 'name' | 'type' | 'input' | 'column'>;

export interface InputMapping {
  inputs: InputSpec[];
  /** In input order, then column order: the order of the signature and of /predict's records. */
  features: MappedFeature[];
}

/** "[N, 4]", "[N]", "[N, ?]": how an error shows a shape. */
function shapeText(port: Port): string {
  if (!port.shape) return '[unknown shape]';
  return `[${port.shape.map((d, i) => (i === 0 ? 'N' : (d ?? '?'))).join(', ')}]`;
}

function describe(ports: Port[]): string {
  return ports.map((p) => `"${p.name}" ${p.type} ${shapeText(p)}`).join(', ');
}

/** Rank and width of an input: [N] → 1 column; [N, k] → k (null when the file leaves it symbolic). */
function layout(port: Port): { rank: 1 | 2; width: number | null } | null {
  const shape = port.shape ?? [null, null];
  if (shape.length === 1) return { rank: 1, width: 1 };
  if (shape.length === 2) return { rank: 2, width: shape[1] };
  return null;
}

export function mapInputs(file: string, ports: Port[], columns: string[], target: string, features?: string[]): InputMapping {
  const unmatched = (rest: Port[], hint: string) => errors.importUnmatched(file, describe(rest), columns, hint);
  const odd = ports.find((p) => layout(p) === null);
  if (odd) throw unmatched([odd], 'only inputs of shape [N] or [N, F] can be fed from a CSV');

  const perColumn = ports.filter((p) => columns.includes(p.name) && (layout(p)!.width ?? 1) === 1);
  const rest = ports.filter((p) => !perColumn.includes(p));
  const inputs: InputSpec[] = [];
  const mapped: MappedFeature[] = [];
  for (const p of ports) {
    if (!perColumn.includes(p)) continue;
    inputs.push({ name: p.name, type: p.type!, width: 1, rank: layout(p)!.rank });
    mapped.push({ name: p.name, type: p.type!, input: p.name, column: 0 });
  }

  if (rest.length === 1 && features && features.length > 0) {
    const port = rest[0];
    const { rank, width } = layout(port)!;
    const absent = features.filter((f) => !columns.includes(f));
    if (absent.length > 0) throw unmatched(rest, `--features names ${absent.map((f) => `'${f}'`).join(', ')}, not in the CSV`);
    const twice = features.find((f, i) => features.indexOf(f) !== i || perColumn.some((p) => p.name === f));
    if (twice) throw unmatched(rest, `column '${twice}' would feed two inputs`);
    if (width !== null && width !== features.length)
      throw unmatched(rest, `--features lists ${features.length} columns but input "${port.name}" takes ${width}`);
    if (rank === 1 && features.length !== 1) throw unmatched(rest, `input "${port.name}" is [N]: it takes one column`);
    inputs.push({ name: port.name, type: port.type!, width: features.length, rank });
    features.forEach((name, column) => mapped.push({ name, type: port.type!, input: port.name, column }));
  } else if (rest.length > 0) {
    const width = layout(rest[0])!.width;
    const hint =
      rest.length === 1
        ? `name the ${width === null ? '' : `${width} `}columns of input "${rest[0].name}" in order with --features a,b,c`
        : 'an input of one column ([N] or [N, 1]) takes the CSV column of its name; --features can name the columns of one [N, F] input';
    throw unmatched(rest, hint);
  } else if (features && features.length > 0) {
    throw unmatched(ports, '--features names the columns of one [N, F] input, and every input of this model is fed by name');
  }

  if (mapped.some((f) => f.name === target)) throw unmatched(ports, `the target column '${target}' cannot also be a feature`);
  // Signature order: the inputs as the file lists them.
  const order = new Map(ports.map((p, i) => [p.name, i]));
  inputs.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
  mapped.sort((a, b) => order.get(a.input)! - order.get(b.input)! || a.column - b.column);
  return { inputs, features: mapped };
}
