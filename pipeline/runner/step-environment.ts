import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../common/config';
import { errors } from '../../common/errors';
import type { ParamSpecs, ParamValues } from '../sdk/params';

// What a step that runs as a child process (a command, a notebook) gets from the runner: the
// MLOPS_* environment, a context file, a metrics file, and its output as log lines.

export interface StepProcessRun {
  step: string;
  runId: string;
  runDir: string;
  artifactsDir: string;
  pipelineDir: string;
  params: ParamValues<ParamSpecs>;
  logFile: string;
  /** Lines the process prints (stdout and stderr), for the log and progress events. */
  onLine(line: string): void;
  signal: AbortSignal;
}

export interface PreparedStep {
  env: NodeJS.ProcessEnv;
  metricsFile: string;
}

/** The folder of mlops_step.py, put first on PYTHONPATH so that Python steps can `import mlops_step`. */
export function pythonHelpersDir(): string {
  return path.join(packageRoot(), 'pipeline', 'python');
}

/** Writes the step's context file and gives the environment of its process. */
export function prepareStep(run: StepProcessRun): PreparedStep {
  const stepDir = path.join(run.runDir, 'steps', run.step);
  fs.mkdirSync(stepDir, { recursive: true });
  const contextFile = path.join(stepDir, 'context.json');
  const metricsFile = path.join(stepDir, 'metrics.json');
  const context = { runId: run.runId, runDir: run.runDir, step: run.step, artifactsDir: run.artifactsDir, params: run.params, metricsFile };
  fs.writeFileSync(contextFile, JSON.stringify(context, null, 2));
  const pythonPath = [pythonHelpersDir(), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
  const env = {
    ...process.env,
    MLOPS_EVENTS_FD: '', // the channel is the runner's own
    MLOPS_RUN_ID: run.runId,
    MLOPS_RUN_DIR: run.runDir,
    MLOPS_STEP: run.step,
    MLOPS_ARTIFACTS_DIR: run.artifactsDir,
    MLOPS_PARAMS: JSON.stringify(run.params),
    MLOPS_CONTEXT_FILE: contextFile,
    MLOPS_METRICS_FILE: metricsFile,
    PYTHONPATH: pythonPath,
  };
  return { env, metricsFile };
}

/** Calls `onLine` for each line of a child's output stream, the last one even without a newline. */
export function forEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    parts.forEach((line) => onLine(line));
  });
  stream.on('end', () => rest && onLine(rest));
}

/** The metrics a step wrote to MLOPS_METRICS_FILE (a JSON object of name → finite number). */
export function readMetrics(step: string, file: string): Record<string, number> {
  if (!fs.existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw errors.stepFailed(step, `${file} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw errors.stepFailed(step, `${file} must hold a JSON object of metric name → number`);
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw errors.stepFailed(step, `${file}: metric '${k}' is not a finite number`);
    out[k] = v;
  }
  return out;
}

/** Size and modification time of every file under `dir`, by its path relative to `dir` (with '/'). */
export function snapshotFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else if (entry.isFile()) {
        const stat = fs.statSync(path.join(dir, rel));
        out.set(rel, `${stat.size}:${stat.mtimeMs}`);
      }
    }
  };
  if (fs.existsSync(dir)) walk('');
  return out;
}

/** The files under `dir` that are new or changed since `before` was taken: what a process step wrote. */
export function writtenSince(dir: string, before: Map<string, string>): string[] {
  return [...snapshotFiles(dir)].filter(([name, stamp]) => before.get(name) !== stamp).map(([name]) => name);
}
