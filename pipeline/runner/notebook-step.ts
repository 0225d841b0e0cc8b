import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { errors, type MlopsError } from '../../common/errors';
import type { NotebookStep } from '../sdk/pipeline';
import { forEachLine, prepareStep, pythonHelpersDir, readMetrics, type StepProcessRun } from './step-environment';

// A notebook step: pipeline/python/run_notebook.py runs the notebook in a Jupyter kernel through
// nbclient and tells us, as JSON lines on its fd 3, the kernel's pid, which cell runs, and why it
// failed. Here: the Python to use, the one-line errors, the executed copy's name, and the kernel's
// end (it runs in a session of its own, which the runner's process-group kill does not reach).

/** Longest a cell may run when the step sets no timeoutSec. */
export const DEFAULT_CELL_TIMEOUT_SEC = 600;

export interface NotebookRun extends StepProcessRun {
  /** "cell i of n": before each cell runs. */
  onProgress(current: number, total: number, message: string): void;
}

/** Where the executed copy of step `step` goes, relative to the run's folder (StepRecord.notebook). */
export function executedNotebookName(step: string): string {
  return `${step}.ipynb`;
}

/** MLOPS_PYTHON, else Debian's python3 (which has python3-nbclient), else python3 on PATH. */
export function notebookPython(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env.MLOPS_PYTHON?.trim();
  if (chosen) return chosen;
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

type DriverMessage =
  | { type: 'kernel'; pid: number | null }
  | { type: 'progress'; cell: number; total: number; line: string }
  | { type: 'error'; kind: 'module'; module: string; python: string }
  | { type: 'error'; kind: 'kernel'; kernel: string; python: string; reason: string }
  | { type: 'error'; kind: 'notebook'; reason: string }
  | { type: 'error'; kind: 'timeout'; cell: number; line: string; seconds: number }
  | { type: 'error'; kind: 'cell'; cell: number; line: string; ename: string; evalue: string }
  | { type: 'error'; kind: 'dead'; cell: number | null; line: string };

type DriverError = Extract<DriverMessage, { type: 'error' }>;

/** Runs the notebook; returns the metrics it wrote to MLOPS_METRICS_FILE. The executed copy is written in every case. */
export async function runNotebookStep(step: NotebookStep, run: NotebookRun): Promise<Record<string, number>> {
  const source = path.resolve(run.pipelineDir, step.notebook);
  if (!fs.existsSync(source)) throw errors.notebookFile(run.step, source, 'not found');
  const python = notebookPython();
  const timeoutSec = step.timeoutSec ?? DEFAULT_CELL_TIMEOUT_SEC;
  const { env, metricsFile } = prepareStep(run);
  const out = path.join(run.runDir, executedNotebookName(run.step));
  const args = [path.join(pythonHelpersDir(), 'run_notebook.py'), '--notebook', source, '--out', out];
  args.push('--kernel', step.kernel ?? 'python3', '--timeout', String(timeoutSec), '--events-fd', '3');

  const child = spawn(python, args, { cwd: path.dirname(source), stdio: ['ignore', 'pipe', 'pipe', 'pipe'], signal: run.signal, env });
  forEachLine(child.stdout!, run.onLine);
  forEachLine(child.stderr!, run.onLine);
  let kernelPid: number | null = null;
  let failure: DriverError | null = null;
  readline.createInterface({ input: child.stdio[3] as NodeJS.ReadableStream }).on('line', (line) => {
    let message: DriverMessage;
    try {
      message = JSON.parse(line) as DriverMessage;
    } catch {
      return run.onLine(line);
    }
    if (message.type === 'kernel') kernelPid = message.pid;
    else if (message.type === 'progress') {
      run.onProgress(message.cell, message.total, `cell ${message.cell} of ${message.total}${message.line ? `: ${message.line}` : ''}`);
    } else failure = message;
  });

  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    // On a cancel (AbortError) wait for the driver to end: it saves the copy and stops its kernel first.
    child.on('error', (error) => error.name !== 'AbortError' && resolve({ code: null, signal: null, error }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  // The driver kills its kernel on the way out; a driver that was killed itself could not.
  killGroup(kernelPid);
  if (outcome.error && (outcome.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw errors.notebookSetup(
      run.step,
      `cannot start Python (${python} not found)`,
      'python3, or set MLOPS_PYTHON to a Python with nbclient',
    );
  }
  if (outcome.error) throw errors.stepFailed(run.step, `cannot run ${python}: ${outcome.error.message}`);
  run.signal.throwIfAborted();
  if (failure) throw describeFailure(run.step, source, python, failure);
  if (outcome.code !== 0) {
    const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.code}`;
    throw errors.stepFailed(run.step, `the notebook driver ${how} (log: ${run.logFile})`);
  }
  for (const name of step.produces ?? []) {
    if (!fs.existsSync(path.join(run.artifactsDir, name))) throw errors.notebookNoOutput(run.step, step.notebook, name, run.artifactsDir);
  }
  return readMetrics(run.step, metricsFile);
}

function describeFailure(step: string, source: string, python: string, failure: DriverError): MlopsError {
  switch (failure.kind) {
    case 'module':
      return errors.notebookSetup(step, `${python} cannot import ${failure.module}`, 'python3-nbclient (Debian) or `pip install nbclient`');
    case 'kernel':
      return failure.kernel === 'python3'
        ? errors.notebookSetup(
            step,
            `the Jupyter kernel 'python3' of ${python} ${failure.reason}`,
            'python3-ipykernel (Debian) or `pip install ipykernel`',
          )
        : errors.notebookSetup(
            step,
            `the Jupyter kernel '${failure.kernel}' ${failure.reason}`,
            "it or set the step's kernel (`jupyter kernelspec list` shows the kernels there are)",
          );
    case 'notebook':
      return errors.notebookFile(step, source, failure.reason);
    case 'timeout':
      return errors.notebookTimeout(step, failure.cell, failure.line, failure.seconds);
    case 'cell':
      return errors.notebookCell(step, failure.cell, failure.line, `${failure.ename}: ${failure.evalue.split('\n')[0]}`);
    case 'dead':
      return errors.stepFailed(
        step,
        `the Jupyter kernel died${failure.cell === null ? '' : ` during cell ${failure.cell} (${failure.line})`}`,
      );
  }
}

function killGroup(pid: number | null): void {
  if (pid === null) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}
