import * as ort from 'onnxruntime-node';
import type { ModelSignature } from '../../common/contract';
import { errors } from '../../common/errors';
import { infer } from '../../common/inference';
import { confusionMatrixSvg } from '../ml/confusion-svg';
import { classificationReport, regressionReport, type ClassificationReport, type RegressionReport } from '../ml/metrics';
import { datasetSignature, expectedOutputs, splitBatch } from '../ml/model-inputs';
import { predictedVsActualSvg, residualHistogramSvg } from '../ml/regression-svg';
import type { StepContext } from '../sdk/pipeline';
import { DATASET, EVALUATION, EXPECTED_LABELS, EXPECTED_VALUES, MODEL_FILE, type PreparedDataset, type Split } from './dataset';

/** Largest relative gap allowed between an ONNX value and the in-memory model's (float32 arithmetic in both, in other orders). */
export const VALUE_PARITY = 1e-5;

export type Evaluation =
  | {
      task: 'classification';
      /** The signature the model is scored, and will be registered and served, with. */
      signature: ModelSignature;
      test: ClassificationReport;
      trainAccuracy: number;
      /** Share of test rows where the ONNX label equals the in-memory model's. */
      parity: number;
      /** Gap between the best and worst per-class recall on the test split. */
      recallGap: number;
      /** The class index predicted for each test row (the model card's group gaps). */
      predicted?: number[];
    }
  | {
      task: 'regression';
      signature: ModelSignature;
      test: RegressionReport;
      train: RegressionReport;
      /** Share of test rows where the ONNX value is within VALUE_PARITY of the in-memory model's. */
      parity: number;
      /** Largest relative gap between the ONNX and in-memory values on the test split. */
      maxParityGap: number;
      /** The value predicted for each test row (the model card's group gaps). */
      predicted?: number[];
    };

/**
 * Scores the exported model.onnx through common/inference.ts, exactly as the server runs it, and
 * proves it agrees with the in-memory model on every test row (a mismatch fails the run).
 */
export async function evaluate(ctx: StepContext<unknown>): Promise<Evaluation> {
  const data = ctx.artifacts.readJson<PreparedDataset>(DATASET);
  const session = await openSession(ctx.step, ctx.artifacts.path(MODEL_FILE));
  try {
    const signature = signatureOf(ctx.step, data, session);
    const evaluation =
      data.task === 'regression'
        ? await evaluateRegression(ctx, data, session, signature)
        : await evaluateClassification(ctx, data, session, signature);
    ctx.artifacts.writeJson(EVALUATION, evaluation);
    return evaluation;
  } finally {
    await session.release();
  }
}

async function predictSplit(session: ort.InferenceSession, signature: ModelSignature, split: Split) {
  return infer(session, signature, splitBatch(signature, split), false);
}

function expectedOf<T>(ctx: StepContext<unknown>, file: string): T[] {
  if (!ctx.artifacts.exists(file)) {
    throw errors.stepFailed(
      ctx.step,
      `${ctx.artifacts.path(file)} is missing: the training step must write the in-memory model's test predictions ` +
        'so that ONNX parity can be checked',
    );
  }
  return ctx.artifacts.readJson<T[]>(file);
}

async function evaluateClassification(
  ctx: StepContext<unknown>,
  data: PreparedDataset,
  session: ort.InferenceSession,
  signature: ModelSignature,
): Promise<Evaluation> {
  const classesOf = async (split: Split) => {
    const p = await predictSplit(session, signature, split);
    return p.task === 'classification' ? Array.from(p.classes) : [];
  };
  const predictTest = await classesOf(data.test);
  const test = classificationReport(data.test.y, predictTest, data.classLabels);
  const trainAccuracy = classificationReport(data.train.y, await classesOf(data.train), data.classLabels).accuracy;
  const expected = expectedOf<string>(ctx, EXPECTED_LABELS);
  const mismatched = predictTest.map((p, i) => (data.classLabels[p] === expected[i] ? -1 : i)).filter((i) => i >= 0);
  if (expected.length !== predictTest.length || mismatched.length > 0) {
    throw errors.parity(ctx.step, Math.max(mismatched.length, 1), predictTest.length, (mismatched[0] ?? 0) + 1);
  }
  const recalls = test.perClass.map((c) => c.recall);
  const recallGap = Math.max(...recalls) - Math.min(...recalls);
  ctx.artifacts.writeText(
    'confusion_matrix.svg',
    confusionMatrixSvg(test.confusion, data.classLabels, `Confusion matrix (test split, ${data.test.rows} rows)`),
  );
  ctx.metric('accuracy', test.accuracy);
  ctx.metric('macro_f1', test.macroF1);
  ctx.metric('train_accuracy', trainAccuracy);
  ctx.metric('onnx_parity', 1);
  ctx.metric('recall_gap', recallGap);
  for (const c of test.perClass) {
    ctx.metric(`precision_${c.label}`, c.precision);
    ctx.metric(`recall_${c.label}`, c.recall);
  }
  ctx.log(
    `accuracy ${test.accuracy.toFixed(4)}, macro F1 ${test.macroF1.toFixed(4)}, ` +
      `ONNX parity ${predictTest.length}/${predictTest.length}; confusion matrix in confusion_matrix.svg`,
  );
  return { task: 'classification', signature, test, trainAccuracy, parity: 1, recallGap, predicted: predictTest };
}

async function evaluateRegression(
  ctx: StepContext<unknown>,
  data: PreparedDataset,
  session: ort.InferenceSession,
  signature: ModelSignature,
): Promise<Evaluation> {
  const valuesOf = async (split: Split) => {
    const p = await predictSplit(session, signature, split);
    return p.task === 'regression' ? p.values : new Float32Array(0);
  };
  const predictTest = await valuesOf(data.test);
  const test = regressionReport(data.test.y, predictTest);
  const train = regressionReport(data.train.y, await valuesOf(data.train));
  const expected = expectedOf<number>(ctx, EXPECTED_VALUES);
  const gaps = Array.from(predictTest, (v, i) => Math.abs(v - expected[i]) / Math.max(Math.abs(expected[i]), 1));
  const mismatched = gaps.map((g, i) => (g <= VALUE_PARITY ? -1 : i)).filter((i) => i >= 0);
  if (expected.length !== predictTest.length || mismatched.length > 0) {
    throw errors.valueParity(ctx.step, Math.max(mismatched.length, 1), predictTest.length, (mismatched[0] ?? 0) + 1, VALUE_PARITY);
  }
  const maxParityGap = Math.max(0, ...gaps);
  const rows = `test split, ${data.test.rows} rows`;
  const scatter = predictedVsActualSvg(data.test.y, predictTest, `${data.target}: predicted vs actual (${rows})`);
  ctx.artifacts.writeText('predicted_vs_actual.svg', scatter);
  ctx.artifacts.writeText('residuals.svg', residualHistogramSvg(data.test.y, predictTest, `${data.target}: residuals (${rows})`));
  ctx.metric('rmse', test.rmse);
  ctx.metric('mae', test.mae);
  ctx.metric('r2', test.r2);
  ctx.metric('train_rmse', train.rmse);
  ctx.metric('train_r2', train.r2);
  ctx.metric('onnx_parity', 1);
  ctx.metric('onnx_max_relative_gap', maxParityGap);
  ctx.log(
    `RMSE ${test.rmse.toFixed(4)}, MAE ${test.mae.toFixed(4)}, R² ${test.r2.toFixed(4)}, ONNX parity ${predictTest.length}/` +
      `${predictTest.length} (largest relative gap ${maxParityGap.toExponential(2)}); charts in predicted_vs_actual.svg, residuals.svg`,
  );
  return { task: 'regression', signature, test, train, parity: 1, maxParityGap, predicted: Array.from(predictTest) };
}

async function openSession(step: string, file: string): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(file);
  } catch (err) {
    throw errors.stepFailed(step, `onnxruntime cannot load ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/**
 * The dataset's signature (model-inputs.ts) with the graph's output names: skl2onnx's convention,
 * which every exporter here follows (label then probabilities, or the value). A graph whose inputs
 * are not the layout's is refused with both lists.
 */
function signatureOf(step: string, data: PreparedDataset, session: ort.InferenceSession): ModelSignature {
  const signature = datasetSignature(data, session.outputNames);
  const want = signature.inputs.map((i) => i.name);
  const wantOutputs = data.task === 'regression' ? 1 : 2;
  const sameInputs = want.length === session.inputNames.length && want.every((name) => session.inputNames.includes(name));
  if (!sameInputs || session.outputNames.length < wantOutputs) {
    throw errors.stepFailed(
      step,
      `the model must have inputs [${want.join(', ')}] and ${expectedOutputs(data.task)}; ` +
        `it has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]`,
    );
  }
  return signature;
}
