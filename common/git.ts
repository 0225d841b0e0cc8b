import { execFileSync } from 'node:child_process';
import type { GitInfo } from './contract';

/** Commit, branch and dirty flag of the repo holding `dir`; GIT_HEAD / GIT_BRANCH win (containers without .git). */
export function gitInfo(dir: string, env: NodeJS.ProcessEnv = process.env): GitInfo {
  const git = (...args: string[]): string | null => {
    try {
      return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    } catch {
      return null;
    }
  };
  const commit = env.GIT_HEAD?.trim() || git('rev-parse', 'HEAD');
  const branch = env.GIT_BRANCH?.trim() || git('rev-parse', '--abbrev-ref', 'HEAD');
  const status = git('status', '--porcelain', '--untracked-files=no');
  return { commit: commit || null, branch: branch || null, dirty: status === null ? null : status.length > 0 };
}
