import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errors } from '../errors';
import { modelKey, type ArtifactStore, type StagedArtifact } from './artifacts';

const STAGING = path.join('models', '.staging');
/** A staging folder younger than this may belong to a registration in progress (on any host sharing the folder). */
const STAGING_IDLE_MS = 60_000;

/** The artifact folder: MLOPS_ARTIFACT_DIR, else the data folder (where models/ has always been). */
export function artifactDir(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.MLOPS_ARTIFACT_DIR?.trim();
  return configured ? path.resolve(configured) : dataDir;
}

/**
 * Model files in a local or shared folder: models/<name>/<version>/model.onnx. Writes go to a
 * staging folder, are fsynced, renamed into place and the parent folder fsynced, so another host
 * reading the share sees the whole file or none; reads are checked against the registry's sha256.
 */
export class LocalArtifactStore implements ArtifactStore {
  constructor(readonly root: string) {}

  get location(): string {
    return this.root;
  }

  async stage(sourceFile: string): Promise<StagedArtifact> {
    let bytes: Buffer;
    try {
      bytes = await fs.promises.readFile(sourceFile);
    } catch (err) {
      throw errors.dataFile(sourceFile, `cannot read the model file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    const dir = path.join(this.root, STAGING, crypto.randomUUID());
    await fs.promises.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'model.onnx');
    const fh = await fs.promises.open(file, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return { staged: dir, sha256, bytes: bytes.length };
  }

  async place(staged: StagedArtifact, model: string, version: number): Promise<string> {
    const key = modelKey(model, version);
    const finalDir = path.dirname(this.localPath(key));
    // Left by a registration of this number that crashed before its commit: no row owns it.
    await fs.promises.rm(finalDir, { recursive: true, force: true });
    await fs.promises.mkdir(path.dirname(finalDir), { recursive: true });
    await fs.promises.rename(staged.staged, finalDir);
    await fsyncDir(path.dirname(finalDir));
    return key;
  }

  async discard(target: StagedArtifact | string): Promise<void> {
    const dir = typeof target === 'string' ? path.dirname(this.localPath(target)) : target.staged;
    await fs.promises.rm(dir, { recursive: true, force: true });
  }

  async read(key: string, sha256: string): Promise<Buffer> {
    const file = this.localPath(key);
    const bytes = await fs.promises.readFile(file);
    const actual = crypto.createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) throw errors.modelCorrupt(key, file, actual, sha256);
    return bytes;
  }

  localPath(key: string): string {
    return path.resolve(this.root, key);
  }

  async sweep(committed: (model: string, version: number) => Promise<boolean>): Promise<string[]> {
    const modelsDir = path.join(this.root, 'models');
    if (!fs.existsSync(modelsDir)) return [];
    const removed: string[] = [];
    for (const model of await fs.promises.readdir(modelsDir)) {
      const dir = path.join(modelsDir, model);
      for (const entry of await fs.promises.readdir(dir)) {
        const full = path.join(dir, entry);
        const keep =
          model === '.staging'
            ? Date.now() - (await fs.promises.stat(full)).mtimeMs <= STAGING_IDLE_MS
            : /^\d+$/.test(entry) && (await committed(model, Number(entry)));
        if (keep) continue;
        await fs.promises.rm(full, { recursive: true, force: true });
        removed.push(path.join(model, entry));
      }
    }
    return removed;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
