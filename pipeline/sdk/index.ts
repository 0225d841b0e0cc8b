// What a pipeline module imports: `import { definePipeline, param } from '<this folder>'`.
export { definePipeline, isCommandStep } from './pipeline';
export type { Artifacts, CommandStep, FunctionStep, Pipeline, RegisterRequest, Step, StepContext } from './pipeline';
export { param } from './params';
export type { ParamSpec, ParamSpecs, ParamValues } from './params';
