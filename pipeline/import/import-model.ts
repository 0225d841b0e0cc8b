// Registers an ONNX model trained elsewhere (mlops models register, POST /api/models/import): reads
// its ports (rewriting a ZipMap), matches CSV columns to its inputs, builds the typed signature,
// computes the training reference from the CSV, scores the CSV through onnxruntime exactly as the
// server will (common/inference.ts), applies the gate when asked, and registers with lineage.
// Every check comes before the registration: nothing is registered on any failure.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { DataFileRef, FeatureSpec, ImportModelRequest, ModelSignature, ModelVersion, TrainingReference } from '../../common/contract';
import { errors } from '../../common/errors';
import { gitInfo } from '../../common/git';
import { infer, type Prediction } from '../../common/inference';
import { checkName, type Registry } from '../../common/registry';
import { allocateBatch, featureSlots, missingValue, setValue, type InputBatch } from '../../common/tensor-layout';
import type { CardEvidence } from '../../common/model-card';
import { groupReports } from '../card/groups';
import { writeCardOf } from '../card/write';
import { typedTrainingReference } from '../ml/reference';
import { categoriesOf, inferTask, parseTable, type Column, type ColumnType, type Table } from '../ml/table';
import { chooseOutputs, classLabelsOf, probabilitiesOutput, type OutputPlan } from './choose-outputs';
import { importGate } from './gate';
import { mapInputs, type MappedFeature } from './map-inputs';
import { readOnnxFile, type OnnxFile } from './onnx-file';

const sha256 = (bytes: Uint8Array) => crypto.createHash('sha256').update(bytes).digest('hex');

function readBytes(file: string, what: 'model' | 'data'): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw what === 'model' ? errors.onnxFile(file, `cannot read (${code})`) : errors.dataFile(file, `cannot read (${code})`);
  }
}

const COLUMN_TYPE = { float32: 'number', float64: 'number', int64: 'number', int32: 'number', bool: 'boolean', string: 'string' } as const;

/** The CSV's feature and target columns, each read as the type its input (or the task) needs. */
function readColumns(data: string, text: string, features: MappedFeature[], target: string, plan: OutputPlan): Table {
  const types: Record<string, ColumnType> = { [target]: plan.task === 'regression' ? 'number' : 'string' };
  for (const f of features) types[f.name] = COLUMN_TYPE[f.type];
  return parseTable(data, text, { columns: [...features.map((f) => f.name), target], types });
}

/** Rows whose target is missing are not scored (there is nothing to compare with). */
function keptRows(table: Table, target: Column): number[] {
  const kept = target.values.flatMap((v, i) => (v === null ? [] : [i]));
  if (kept.length === 0) throw errors.dataColumn(table.file, target.name, 'has no values');
  return kept;
}

function featureSpec(f: MappedFeature, column: Column, table: Table, rows: number[]): FeatureSpec {
  const spec: FeatureSpec = { ...f };
  const present = rows.map((i) => column.values[i]).filter((v) => v !== null);
  if (present.length === 0) throw errors.dataColumn(table.file, f.name, 'has no values');
  if (present.length < rows.length) {
    if (missingValue(f.type) === null) {
      const i = rows.find((r) => column.values[r] === null)!;
      throw errors.dataValue(table.file, table.lines[i], f.name, `a missing value, which a ${f.type} input cannot take`);
    }
    spec.nullable = true;
  }
  if (column.type === 'number') {
    if (f.type === 'int64' || f.type === 'int32') {
      const i = rows.find((r) => column.values[r] !== null && !Number.isInteger(column.values[r]));
      if (i !== undefined) throw errors.dataValue(table.file, table.lines[i], f.name, `'${column.values[i]}' is not a whole number`);
    }
    // A loop, not Math.min(...values): a spread of a large CSV's column overflows the stack.
    spec.min = (present as number[]).reduce((a, b) => Math.min(a, b));
    spec.max = (present as number[]).reduce((a, b) => Math.max(a, b));
  } else {
    spec.categories = categoriesOf(column);
  }
  return spec;
}

/** The kept rows laid out as the model's inputs (a missing value as missingValue says, as the server will). */
function batchOf(signature: ModelSignature, columns: Map<string, Column>, rows: number[]): InputBatch {
  const batch = allocateBatch(signature, rows.length);
  for (const slot of featureSlots(signature)) {
    const values = columns.get(slot.feature.name)!.values;
    const buffer = batch.buffers.get(slot.input.name)!;
    const missing = missingValue(slot.feature.type) ?? NaN;
    rows.forEach((r, k) => setValue(buffer, k * slot.stride + slot.offset, slot.feature.type, values[r] ?? missing));
  }
  return batch;
}

async function score(file: string, onnxFile: OnnxFile, signature: ModelSignature, batch: InputBatch): Promise<Prediction> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(onnxFile.bytes);
  } catch (err) {
    throw errors.onnxFile(file, `onnxruntime cannot load it: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    return await infer(session, signature, batch, false);
  } catch (err) {
    throw errors.onnxFile(file, `onnxruntime cannot score the CSV with it: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    await session.release();
  }
}

/** An imported model checked and scored, ready to register (by the CLI and the API, or by a pipeline step). */
export interface EvaluatedImport {
  /** The model as it will be registered (the ZipMap rewritten). */
  bytes: Uint8Array;
  signature: ModelSignature;
  metrics: Record<string, number>;
  reference: TrainingReference;
  dataFile: DataFileRef;
  /** The file as given: its absolute path and sha256. */
  source: { file: string; sha256: string };
  /** The ZipMap output the import removed, if any. */
  zipMapRemoved: string | null;
  /** The model card's evidence: the gate's checks on the CSV and its group gaps. */
  card: CardEvidence;
}

/** Every check of an import, and its evaluation; registers nothing. Throws MlopsErrors (4xx) for every bad input. */
export async function evaluateImport(req: Omit<ImportModelRequest, 'name' | 'by'>): Promise<EvaluatedImport> {
  const bytes = readBytes(req.file, 'model');
  const dataBytes = readBytes(req.data, 'data');
  const onnxFile = readOnnxFile(req.file, bytes);
  const plan = chooseOutputs(req.file, onnxFile, req.task);
  const text = dataBytes.toString('utf8');
  const inferred = parseTable(req.data, text);
  const header = inferred.columns.map((c) => c.name);
  if (!header.includes(req.target)) throw errors.schema(req.data, `missing target column '${req.target}' (found: ${header.join(', ')})`);
  // A target that cannot be the task's (strings for a regression, fractions for classes) is named here.
  inferTask(
    req.data,
    inferred.columns.find((c) => c.name === req.target)!,
    plan.task,
  );
  const mapping = mapInputs(req.file, onnxFile.inputs, header, req.target, req.features);
  const table = readColumns(req.data, text, mapping.features, req.target, plan);
  const columns = new Map(table.columns.map((c) => [c.name, c]));
  const target = columns.get(req.target)!;
  const rows = keptRows(table, target);
  const features = mapping.features.map((f) => featureSpec(f, columns.get(f.name)!, table, rows));
  const base = { schema: 2 as const, inputs: mapping.inputs, features };

  let signature: ModelSignature;
  let truth: number[];
  if (plan.task === 'classification') {
    const { labelKind, classLabels } = classLabelsOf(plan, categoriesOf(target));
    const index = new Map(classLabels.map((l, i) => [l, i]));
    truth = rows.map((r) => {
      const value = String(target.values[r]);
      const i = index.get(value);
      if (i === undefined)
        throw errors.dataValue(req.data, table.lines[r], req.target, `'${value}' is not a class of the model (${classLabels.join(', ')})`);
      return i;
    });
    signature = {
      ...base,
      task: 'classification',
      target: req.target,
      labelOutput: plan.label.name,
      labelKind,
      probabilitiesOutput: probabilitiesOutput(onnxFile, plan.label, classLabels.length),
      classLabels,
    };
  } else {
    truth = rows.map((r) => target.values[r] as number);
    signature = { ...base, task: 'regression', targets: [req.target], valueOutput: plan.value.name };
  }

  const prediction = await score(req.file, onnxFile, signature, batchOf(signature, columns, rows));
  const { metrics, checks } = importGate(prediction, truth, signature, req.gate === true);
  const keptColumns = features.map((f) => {
    const c = columns.get(f.name)!;
    return { ...c, values: rows.map((r) => c.values[r]) } as Column;
  });
  const reference = typedTrainingReference(
    keptColumns,
    signature.task === 'classification'
      ? { task: 'classification', y: truth, nClasses: signature.classLabels.length }
      : { task: 'regression', values: [truth] },
  );

  return {
    bytes: onnxFile.bytes,
    signature,
    metrics,
    reference,
    dataFile: { path: path.resolve(req.data), sha256: sha256(dataBytes) },
    source: { file: path.resolve(req.file), sha256: sha256(bytes) },
    zipMapRemoved: onnxFile.zipMap?.removed ?? null,
    card: {
      gate: { checks, enforced: req.gate === true },
      groups: groupReports({
        task: signature.task,
        columns: keptColumns,
        truth,
        predicted: Array.from(prediction.task === 'classification' ? prediction.classes : prediction.values),
      }),
    },
  };
}

/** The import of mlops models register and POST /api/models/import: evaluateImport, then one registration. */
export async function importModel(registry: Registry, req: ImportModelRequest): Promise<EvaluatedImport & { version: ModelVersion }> {
  checkName('model name', req.name);
  const evaluated = await evaluateImport(req);
  // The registry copies a file: the model goes through a private temporary one.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-import-'));
  try {
    const onnxFile = path.join(tmp, 'model.onnx');
    fs.writeFileSync(onnxFile, evaluated.bytes);
    const version = await registry.models.register({
      model: req.name,
      onnxFile,
      signature: evaluated.signature,
      metrics: evaluated.metrics,
      params: { imported: path.basename(req.file), ...(evaluated.zipMapRemoved ? { zipmap_removed: evaluated.zipMapRemoved } : {}) },
      lineage: {
        runId: null,
        pipeline: null,
        git: gitInfo(path.dirname(evaluated.source.file)),
        dataFiles: [evaluated.dataFile],
        imported: { ...evaluated.source, by: req.by ?? 'api' },
      },
      reference: evaluated.reference,
    });
    writeImportCard(version, evaluated.card);
    return { ...evaluated, version };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The imported version's card, with what the import knows (no pipeline metadata); a failure leaves the server's fallback. */
function writeImportCard(version: ModelVersion, evidence: CardEvidence): void {
  try {
    writeCardOf(version, null, evidence);
  } catch (err) {
    process.emitWarning(`model card of ${version.model} version ${version.version} not written: ${(err as Error).message}`);
  }
}
