import fs from 'node:fs';
import path from 'node:path';
import { errors } from '../../common/errors';
import { isInside } from '../evaluation-pictures';
import { readCsvColumns } from './csv-header';
import { pythonPipeline, typescriptPipeline, type PipelineKind, type TemplateInput } from './templates';

export interface ScaffoldRequest {
  kind: PipelineKind;
  /** The project: the folder holding pipeline/sdk (the workspace of this template). */
  projectRoot: string;
  /** Where pipeline folders go: <workspace>/pipelines in the extension. A data file inside its parent is named relative. */
  pipelinesDir: string;
  name: string;
  data: string;
  target: string;
}

export interface Scaffolded {
  dir: string;
  /** The pipeline module to open and run. */
  pipeline: string;
  files: string[];
  /** Columns left out of the features, and why (the Python and notebook kinds train on numbers only). */
  dropped: string[];
}

export const PIPELINE_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

const posix = (p: string) => p.split(path.sep).join('/');
/** A relative import path from `from` to `to`, always starting with "." as module paths must. */
const relativeImport = (from: string, to: string) => {
  const rel = posix(path.relative(from, to));
  return rel.startsWith('.') ? rel : `./${rel}`;
};

/** Writes pipelines/<name>/pipeline.ts (and, by kind, train.py) for a CSV and its target column. */
export function scaffoldPipeline(r: ScaffoldRequest): Scaffolded {
  if (!PIPELINE_NAME.test(r.name)) throw errors.scaffoldName(r.name);
  const dir = path.join(r.pipelinesDir, r.name);
  if (fs.existsSync(dir)) throw errors.scaffoldExists(dir);
  const csv = readCsvColumns(r.data);
  if (!csv.columns.includes(r.target)) throw errors.scaffoldCsv(r.data, `no column "${r.target}" (columns: ${csv.columns.join(', ')})`);
  const numbersOnly = r.kind !== 'typescript';
  const features = csv.columns.filter((c) => c !== r.target && (!numbersOnly || csv.numeric.includes(c)));
  const dropped = csv.columns.filter((c) => c !== r.target && !features.includes(c));
  if (features.length === 0) throw errors.scaffoldCsv(r.data, `no numeric feature column besides "${r.target}" for a ${r.kind} step`);
  const input: TemplateInput = {
    name: r.name,
    data: isInside(path.dirname(r.pipelinesDir), r.data) ? posix(path.relative(dir, r.data)) : r.data,
    features,
    target: r.target,
    pipelineRoot: relativeImport(dir, path.join(r.projectRoot, 'pipeline')),
  };
  const example = (kind: string, file: string) => fs.readFileSync(path.join(r.projectRoot, 'pipeline', 'examples', kind, file), 'utf8');
  const files: Record<string, string> = {};
  if (r.kind === 'typescript') files['pipeline.ts'] = typescriptPipeline(input);
  else {
    // The examples' Python, copied beside the new pipeline so that it is the user's to change.
    files['pipeline.ts'] = pythonPipeline(input, r.kind);
    files['softmax_onnx.py'] = example('python', 'softmax_onnx.py');
    if (r.kind === 'python') files['train.py'] = example('python', 'train.py');
    else files['train.ipynb'] = notebookBesideTrainer(example('notebook', 'train.ipynb'));
  }
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return { dir, pipeline: path.join(dir, 'pipeline.ts'), files: Object.keys(files).map((f) => path.join(dir, f)), dropped };
}

/** The notebook example imports the trainer from ../python; the copy finds it beside itself (its working directory). */
function notebookBesideTrainer(source: string): string {
  const from = 'sys.path.insert(0, os.path.abspath(\\"../python\\"))';
  if (!source.includes(from)) throw new Error(`the notebook example no longer has ${from}`);
  return source.replace(from, 'sys.path.insert(0, os.path.abspath(\\".\\"))');
}
