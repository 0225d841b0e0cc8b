// What the step cache (step-cache.ts) compares and moves: content hashes of files and module graphs,
// the params a step reads, whether a return value survives serialization, and artifact folders.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const sha256 = (data: string | Uint8Array): string => crypto.createHash('sha256').update(data).digest('hex');

/** A file's sha256 ('missing' when there is none, a listing's hash for a folder), remembered while its size and mtime stay. */
export class FileHashes {
  private readonly known = new Map<string, { stamp: string; hash: string }>();

  of(file: string): string {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      return 'missing';
    }
    if (stat.isDirectory()) return this.folder(file);
    const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    const seen = this.known.get(file);
    if (seen?.stamp === stamp) return seen.hash;
    const hash = sha256(fs.readFileSync(file));
    this.known.set(file, { stamp, hash });
    return hash;
  }

  private folder(dir: string): string {
    const entries = listFiles(dir).map((rel) => `${rel}\t${this.of(path.join(dir, rel))}`);
    return `folder:${sha256(entries.join('\n'))}`;
  }
}

/** Files under a folder, relative to it, sorted; none when it does not exist. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .sort();
}

/**
 * The source files of a module and of the project modules it imports, as tsx loaded them: the
 * module graph under `entry` in require.cache, without node_modules. tsx keys its modules with a
 * `?namespace=…` suffix, dropped here.
 */
export function moduleGraphFiles(entry: string): string[] {
  const bare = (f: string) => f.split('?')[0];
  const root = Object.values(require.cache).find((m) => m && bare(m.filename) === entry);
  const files = new Set<string>([entry]);
  const visit = (m: NodeJS.Module) => {
    for (const child of m.children) {
      const file = bare(child.filename);
      if (files.has(file) || file.split(path.sep).includes('node_modules')) continue;
      files.add(file);
      visit(child);
    }
  };
  if (root) visit(root);
  return [...files].sort();
}

/** Hash of a list of files: each one's path and content. */
export function filesHash(files: string[], hashes: FileHashes): string {
  return sha256(files.map((f) => `${f}\t${hashes.of(f)}`).join('\n'));
}

/**
 * The params object a function step gets, recording which ones it reads (get, `in`, and all of
 * them when it is spread or listed): changing a param reruns the steps that read it, not the others.
 */
export function trackReads<P extends object>(params: P): { params: P; read: Set<string> } {
  const read = new Set<string>();
  const note = (target: P, key: string | symbol) => {
    if (typeof key === 'string' && Object.hasOwn(target, key)) read.add(key);
  };
  const proxy = new Proxy(params, {
    get(target, key, receiver) {
      note(target, key);
      return Reflect.get(target, key, receiver) as unknown;
    },
    has(target, key) {
      note(target, key);
      return Reflect.has(target, key);
    },
    getOwnPropertyDescriptor(target, key) {
      note(target, key);
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    ownKeys(target) {
      Object.keys(target).forEach((k) => read.add(k));
      return Reflect.ownKeys(target);
    },
  });
  return { params: proxy, read };
}

/**
 * True when v8.serialize and v8.deserialize give the value back as it was: primitives, plain
 * objects, arrays, typed arrays, Map, Set, Date, RegExp. A class instance would come back as a
 * plain object without its methods, a function not at all (the trained model objects).
 */
export function isPlainData(value: unknown, seen = new Set<object>()): boolean {
  if (value === null || value === undefined) return true;
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean' || type === 'bigint') return true;
  if (type !== 'object') return false;
  const obj = value as object;
  if (seen.has(obj)) return true;
  seen.add(obj);
  if (ArrayBuffer.isView(obj)) return !Buffer.isBuffer(obj); // a Buffer comes back as a Uint8Array
  if (obj instanceof ArrayBuffer || obj instanceof Date || obj instanceof RegExp) return true;
  if (obj instanceof Map) return [...obj].every(([k, v]) => isPlainData(k, seen) && isPlainData(v, seen));
  if (obj instanceof Set) return [...obj].every((v) => isPlainData(v, seen));
  const proto: unknown = Object.getPrototypeOf(obj);
  if (!Array.isArray(obj) && proto !== Object.prototype && proto !== null) return false;
  for (const v of Object.values(obj)) if (!isPlainData(v, seen)) return false;
  return true;
}

/**
 * Makes `dest` the same file as `src`: a hard link, or a copy when linking fails (another device,
 * a file system without links). Never a move: the source run keeps its files.
 */
export function linkOrCopy(src: string, dest: string): 'linked' | 'copied' {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.rmSync(dest, { force: true });
  try {
    fs.linkSync(src, dest);
    return 'linked';
  } catch {
    fs.copyFileSync(src, dest);
    return 'copied';
  }
}

/** JSON with object keys sorted: the same params give the same text whatever order they were built in. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
