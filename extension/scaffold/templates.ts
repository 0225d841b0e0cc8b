// The files "MLOps: New Pipeline…" writes. Each kind is one of the project's examples with the
// user's columns: the TypeScript steps of pipeline/examples/iris, the Python command step of
// pipeline/examples/python (its train.py is copied as it is, see scaffold.ts).

export type PipelineKind = 'typescript' | 'python' | 'notebook';

export interface TemplateInput {
  name: string;
  /** The data file, relative to the pipeline's folder (or absolute when outside the workspace). */
  data: string;
  features: string[];
  target: string;
  /** The project's pipeline/ folder, relative to the pipeline's folder, with / separators. */
  pipelineRoot: string;
}

/** A single-quoted TypeScript string literal, as the project's code is formatted. */
const q = (s: string) => `'${JSON.stringify(s).slice(1, -1).replaceAll('\\"', '"').replaceAll("'", "\\'")}'`;
const list = (names: string[]) => `[${names.map(q).join(', ')}]`;

/** The header and the params every kind shares: the iris example's split and gate. */
function head(t: TemplateInput, what: string, imports: string[]): string {
  const r = t.pipelineRoot;
  return `// ${t.name}: ${what}.
// Scaffolded by "MLOps: New Pipeline…" from the project's examples: change FEATURES, TARGET or the
// data file below when the data changes. Run: mlops train <this file>.
import { definePipeline, param } from '${r}/sdk';
import { etl } from '${r}/steps/etl';
import { evaluate } from '${r}/steps/evaluate';
import { gate, gateParams } from '${r}/steps/gate';
import { register } from '${r}/steps/register';
${imports.join('\n')}

/** The feature columns, in the order /predict records carry them. */
const FEATURES = ${list(t.features)};
/** The column to predict. */
const TARGET = ${q(t.target)};
`;
}

const sharedParams = (t: TemplateInput) => `    data: param.path(${q(t.data)}, 'CSV with the FEATURES and TARGET columns'),
    model: param.string(${q(t.name)}, 'registry name of the model'),
    ...splitParams,`;

const etlStep = (task: string) => `    etl: {
      run: (ctx) =>
        etl(ctx, {
          file: ctx.params.data,
          features: FEATURES,
          target: TARGET,
          task: ${task},
          testSize: ctx.params.testSize,
          seed: ctx.params.seed,
          maxBadRowShare: 0.05,
        }),
    },`;

const tailSteps = (after: string) => `    evaluate: { needs: [${q(after)}], run: (ctx) => evaluate(ctx) },
    gate: { needs: ['evaluate'], run: (ctx) => gate(ctx, ctx.params) },
    register: { needs: ['gate'], run: (ctx) => register(ctx, ctx.params.model) },
  },
});
`;

/** TypeScript steps: ETL → train → export → evaluate → gate → register, as in the iris example. */
export function typescriptPipeline(t: TemplateInput): string {
  return `${head(t, "TypeScript steps (the iris example's)", [
    `import { exportOnnx, train, TRAINERS, type TrainedModel } from '${t.pipelineRoot}/steps/train';`,
    `import { softmaxParams, splitParams, treeParams } from '${t.pipelineRoot}/examples/iris/pipeline';`,
  ])}
export default definePipeline({
  name: ${q(t.name)},
  description: ${q(`Predict ${t.target}`)},
  params: {
${sharedParams(t)}
    task: param.enum(['auto', 'classification', 'regression'], 'auto', 'auto: classes for text or few whole numbers'),
    trainer: param.enum(TRAINERS, 'auto', 'auto: random_forest, or logistic_regression with text features, or linear_regression'),
    ...treeParams,
    ...softmaxParams,
    ...gateParams,
  },
  steps: {
${etlStep('ctx.params.task')}
    train: { needs: ['etl'], run: (ctx) => train(ctx, ctx.params) },
    export: { needs: ['train'], run: (ctx) => exportOnnx(ctx, ctx.input<TrainedModel>('train')) },
${tailSteps('export')}`;
}

const TRAIN_STEPS = {
  python: `    train: {
      needs: ['etl'],
      command: (p) => [p.python, '{pipelineDir}/train.py'],
      // The module train.py imports: named so that the step cache sees it change.
      inputs: ['softmax_onnx.py'],
      produces: ['model.onnx', 'expected_labels.json'],
    },`,
  notebook: `    train: {
      needs: ['etl'],
      notebook: 'train.ipynb',
      // The module the notebook imports: named so that the step cache sees it change.
      inputs: ['softmax_onnx.py'],
      produces: ['model.onnx', 'expected_labels.json'],
      timeoutSec: 300,
    },`,
};

/**
 * A classifier trained in Python between the TypeScript ETL and evaluation: by a command step
 * (train.py beside it, as in the python example) or a notebook step (train.ipynb, as in the notebook example).
 */
export function pythonPipeline(t: TemplateInput, kind: 'python' | 'notebook'): string {
  const what = kind === 'python' ? 'a Python command step (train.py)' : 'a Jupyter notebook step (train.ipynb)';
  return `${head(t, `a classifier trained by ${what} with numpy and onnx`, [
    `import { softmaxParams, splitParams } from '${t.pipelineRoot}/examples/iris/pipeline';`,
  ])}
export default definePipeline({
  name: ${q(t.name)},
  description: ${q(`Predict ${t.target} (${kind === 'python' ? 'Python' : 'notebook'})`)},
  params: {
${sharedParams(t)}
${kind === 'python' ? "    python: param.string('python3', 'Python interpreter with numpy and onnx'),\n" : ''}    ...softmaxParams,
    ...gateParams,
  },
  steps: {
${etlStep("'classification'")}
${TRAIN_STEPS[kind]}
${tailSteps('train')}`;
}
