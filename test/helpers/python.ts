import { spawnSync } from 'node:child_process';

/**
 * Debian's Python (/usr/bin/python3) when it can import every module, else null. Another
 * python3 first on PATH (pyenv) lacks Debian's python3-torch and python3-onnx, so it is not tried.
 */
export function debianPython(...modules: string[]): string | null {
  const r = spawnSync('/usr/bin/python3', ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  return r.status === 0 ? '/usr/bin/python3' : null;
}

/** Runs a Python script (a file, or `-c` code), failing with its stderr. */
export function runPython(python: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(python, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${python} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** A small torch model exported with torch.onnx.export: input float32 [N, 4], output float32 [N, 3]. */
export const TORCH_EXPORT = `
import sys, torch
torch.manual_seed(0)
m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
torch.onnx.export(m, torch.zeros(1, 4), sys.argv[1], input_names=['input'], output_names=['output'],
                  dynamic_axes={'input': {0: 'N'}, 'output': {0: 'N'}}, opset_version=13)
`;
