import { errors } from '../errors';
import type { Registry, RegistryCopyApi, RegistryRows } from './store';

export type CopyableRegistry = Registry & RegistryCopyApi;

export interface CopyReport {
  /** Rows copied per table. */
  tables: Record<string, number>;
  /** Model files copied (0 when both registries share the artifact folder) and their bytes. */
  artifacts: number;
  bytes: number;
}

interface VersionRow {
  model: string;
  version: number;
  path: string;
  sha256: string;
}

/**
 * `mlops db copy`: moves a registry (rows and model files) into another backend, e.g. a local SQLite
 * one into the shared PostgreSQL one. The files go first, each checked against its sha256, then all
 * rows in one transaction (importRows refuses a registry that is not empty): a copy that fails half
 * way leaves the target with no rows, and any files it placed are swept as orphans at the next open.
 */
export async function copyRegistry(
  from: CopyableRegistry,
  to: CopyableRegistry,
  progress: (line: string) => void = () => {},
): Promise<CopyReport> {
  // Refused before any file moves: placing a version's file replaces what is at its key, which in a
  // registry that is not empty belongs to a committed version. importRows checks every table again.
  if ((await to.models.list()).length > 0) throw errors.registryNotEmpty(to.location, 'models');
  if ((await to.runs.list(1)).length > 0) throw errors.registryNotEmpty(to.location, 'runs');
  const rows: RegistryRows = await from.exportRows();
  const versions = (rows.tables.model_versions ?? []) as unknown as VersionRow[];
  let artifacts = 0;
  let bytes = 0;
  if (from.artifacts.location !== to.artifacts.location) {
    for (const [i, v] of versions.entries()) {
      progress(`model files: ${i + 1}/${versions.length} ${v.model} v${v.version}`);
      const staged = await to.artifacts.stage(from.artifacts.localPath(v.path));
      if (staged.sha256 !== v.sha256) {
        await to.artifacts.discard(staged);
        // The same refusal a load gives: a torn or changed file is never carried over.
        throw errors.artifactCorrupt(`model ${v.model} v${v.version}`, from.artifacts.localPath(v.path), staged.sha256, v.sha256);
      }
      const key = await to.artifacts.place(staged, v.model, v.version);
      if (key !== v.path) {
        // Rows keep their key: a file must land where its row says it is.
        await to.artifacts.discard(key);
        throw new Error(`model ${v.model} v${v.version}: the target stores it at ${key}, the row says ${v.path}`);
      }
      artifacts++;
      bytes += staged.bytes;
    }
  }
  progress(
    `rows: ${Object.entries(rows.tables)
      .map(([t, r]) => `${t} ${r.length}`)
      .join(', ')}`,
  );
  await to.importRows(rows);
  return { tables: Object.fromEntries(Object.entries(rows.tables).map(([t, r]) => [t, r.length])), artifacts, bytes };
}
