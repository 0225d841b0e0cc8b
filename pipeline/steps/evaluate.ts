import * as ort from 'onnxruntime-node';
import { errors } from '../../common/errors';
import { confusionMatrixSvg } from '../ml/confusion-svg';
import { classificationReport, type ClassificationReport } from '../ml/metrics';
import type { StepContext } from '../sdk/pipeline';
import { DATASET, EVALUATION, EXPECTED_LABELS, MODEL_FILE, type PreparedDataset } from './dataset';

export interface Evaluation {
  test: ClassificationReport;
  trainAccuracy: number;
  /** Share of test rows where the ONNX label equals the in-memory model's. */
  parity: number;
  /** Gap between the best and worst per-class recall on the test split. */
  recallGap: number;
  io: OnnxIo;
}

/** The exported graph's input and output names, as the signature records them. */
export interface OnnxIo {
  inputName: string;
  labelOutput: string;
  probabilitiesOutput: string;
}

/**
 * Scores the exported model.onnx through onnxruntime-node, exactly as the server will run it,
 * and proves it agrees with the in-memory model on every test row (a mismatch fails the run).
 */
export async function evaluate(ctx: StepContext<unknown>): Promise<Evaluation> {
  const data = ctx.artifacts.readJson<PreparedDataset>(DATASET);
  const session = await openSession(ctx.step, ctx.artifacts.path(MODEL_FILE));
  try {
    const io = ioNames(ctx.step, session);
    const predictTest = await predictLabels(session, io, data.test.X, data.classLabels, ctx.step);
    const predictTrain = await predictLabels(session, io, data.train.X, data.classLabels, ctx.step);
    const test = classificationReport(data.test.y, predictTest, data.classLabels);
    const trainAccuracy = classificationReport(data.train.y, predictTrain, data.classLabels).accuracy;

    if (!ctx.artifacts.exists(EXPECTED_LABELS)) {
      throw errors.stepFailed(
        ctx.step,
        `${ctx.artifacts.path(EXPECTED_LABELS)} is missing: ` +
          "the training step must write the in-memory model's test labels so that ONNX parity can be checked",
      );
    }
    const expected = ctx.artifacts.readJson<string[]>(EXPECTED_LABELS);
    const mismatched = predictTest.map((p, i) => (data.classLabels[p] === expected[i] ? -1 : i)).filter((i) => i >= 0);
    if (expected.length !== predictTest.length || mismatched.length > 0) {
      throw errors.parity(ctx.step, Math.max(mismatched.length, 1), predictTest.length, (mismatched[0] ?? 0) + 1);
    }

    const recalls = test.perClass.map((c) => c.recall);
    const evaluation: Evaluation = {
      test,
      trainAccuracy,
      parity: 1,
      recallGap: Math.max(...recalls) - Math.min(...recalls),
      io,
    };
    ctx.artifacts.writeJson(EVALUATION, evaluation);
    ctx.artifacts.writeText(
      'confusion_matrix.svg',
      confusionMatrixSvg(test.confusion, data.classLabels, `Confusion matrix (test split, ${data.test.y.length} rows)`),
    );
    ctx.metric('accuracy', test.accuracy);
    ctx.metric('macro_f1', test.macroF1);
    ctx.metric('train_accuracy', trainAccuracy);
    ctx.metric('onnx_parity', 1);
    ctx.metric('recall_gap', evaluation.recallGap);
    for (const c of test.perClass) {
      ctx.metric(`precision_${c.label}`, c.precision);
      ctx.metric(`recall_${c.label}`, c.recall);
    }
    ctx.log(
      `accuracy ${test.accuracy.toFixed(4)}, macro F1 ${test.macroF1.toFixed(4)}, ` +
        `ONNX parity ${predictTest.length}/${predictTest.length}; confusion matrix in confusion_matrix.svg`,
    );
    return evaluation;
  } finally {
    await session.release();
  }
}

async function openSession(step: string, file: string): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(file);
  } catch (err) {
    throw errors.stepFailed(step, `onnxruntime cannot load ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** skl2onnx's convention, which ours follows: one input; outputs label first, probabilities second. */
function ioNames(step: string, session: ort.InferenceSession): Evaluation['io'] {
  if (session.inputNames.length !== 1 || session.outputNames.length < 2) {
    throw errors.stepFailed(
      step,
      'the model must have one input and two outputs (label, probabilities); ' +
        `it has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]`,
    );
  }
  return { inputName: session.inputNames[0], labelOutput: session.outputNames[0], probabilitiesOutput: session.outputNames[1] };
}

async function predictLabels(
  session: ort.InferenceSession,
  io: Evaluation['io'],
  X: number[][],
  classLabels: string[],
  step: string,
): Promise<number[]> {
  const nFeatures = X[0]?.length ?? 0;
  const input = new ort.Tensor('float32', Float32Array.from(X.flat()), [X.length, nFeatures]);
  const out = await session.run({ [io.inputName]: input }, [io.labelOutput]);
  const labels = out[io.labelOutput].data;
  return Array.from(labels as ArrayLike<number | bigint | string>, (v) => {
    const index = typeof v === 'string' ? classLabels.indexOf(v) : Number(v);
    if (index < 0 || index >= classLabels.length)
      throw errors.stepFailed(step, `the model predicted '${String(v)}', which is not a class of the data (${classLabels.join(', ')})`);
    return index;
  });
}
