import fs from 'node:fs';
import path from 'node:path';
import { errors } from '../../common/errors';
import type { Artifacts } from '../sdk/pipeline';

/** The run's artifact folder; `onWrite` records each written name with the run. */
export function artifactFolder(dir: string, onWrite: (name: string) => void): Artifacts {
  fs.mkdirSync(dir, { recursive: true });
  const at = (name: string) => {
    const p = path.resolve(dir, name);
    if (path.relative(dir, p).startsWith('..')) throw errors.badName('artifact name', name, 'must stay inside the run folder');
    return p;
  };
  const write = (name: string, data: string | Uint8Array) => {
    const p = at(name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    // A new file, not a write into the old one: a reused step's artifacts are hard links to an earlier run's files.
    fs.rmSync(p, { force: true });
    fs.writeFileSync(p, data);
    onWrite(name);
    return p;
  };
  return {
    dir,
    path: at,
    exists: (name) => fs.existsSync(at(name)),
    writeJson: (name, value) => write(name, JSON.stringify(value, null, 2)),
    readJson: <T>(name: string) => {
      const p = at(name);
      if (!fs.existsSync(p)) throw errors.dataFile(p, 'artifact not found (did an earlier step write it?)');
      return JSON.parse(fs.readFileSync(p, 'utf8')) as T;
    },
    writeText: (name, text) => write(name, text),
    writeBytes: (name, bytes) => write(name, bytes),
  };
}
