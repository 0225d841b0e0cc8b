import fs from 'node:fs';
import path from 'node:path';
import { require as tsRequire } from 'tsx/cjs/api';
import { errors } from '../../common/errors';
import { isCommandStep, isNotebookStep, type Pipeline } from '../sdk/pipeline';

export interface LoadedPipeline {
  file: string;
  dir: string;
  pipeline: Pipeline;
  /** Step names in the order they run (dependencies first). */
  order: string[];
}

/** Loads a pipeline module (TypeScript or JavaScript, compiled on the fly by tsx) and checks its shape. */
export function loadPipeline(file: string): LoadedPipeline {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw errors.pipelineLoad(file, 'no such file');
  let mod: unknown;
  try {
    mod = tsRequire(abs, __filename);
  } catch (err) {
    throw errors.pipelineLoad(file, firstLine(err));
  }
  const pipeline = findPipeline(mod);
  if (!pipeline) throw errors.pipelineDefinition(file, 'the module must export default definePipeline({...})');
  return { file: abs, dir: path.dirname(abs), pipeline, order: stepOrder(file, pipeline.steps) };
}

function findPipeline(mod: unknown): Pipeline | null {
  // tsx may hand back the module namespace, its default, or a CommonJS default nested once more.
  let candidate = mod as { default?: unknown; kind?: unknown } | undefined;
  for (let i = 0; i < 3 && candidate; i++) {
    if (candidate.kind === 'mlops-pipeline') return candidate as Pipeline;
    candidate = candidate.default as typeof candidate;
  }
  return null;
}

function stepOrder(file: string, steps: Pipeline['steps']): string[] {
  const names = Object.keys(steps);
  if (names.length === 0) throw errors.pipelineDefinition(file, 'it has no steps');
  for (const [name, step] of Object.entries(steps)) {
    if (!isCommandStep(step) && !isNotebookStep(step) && typeof (step as { run?: unknown }).run !== 'function') {
      throw errors.pipelineDefinition(file, `step '${name}' needs a run function, a command or a notebook`);
    }
    for (const need of step.needs ?? []) {
      if (!(need in steps)) throw errors.pipelineDefinition(file, `step '${name}' needs unknown step '${need}'`);
    }
  }
  // Depth-first topological sort, keeping declaration order where dependencies allow.
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting')
      throw errors.pipelineDefinition(file, `steps depend on each other in a cycle: ${[...trail, name].join(' → ')}`);
    state.set(name, 'visiting');
    for (const need of steps[name].needs ?? []) visit(need, [...trail, name]);
    state.set(name, 'done');
    order.push(name);
  };
  names.forEach((n) => visit(n, []));
  return order;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}
