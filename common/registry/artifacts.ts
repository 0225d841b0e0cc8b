/**
 * Where model files live: a folder (MLOPS_ARTIFACT_DIR, default the data folder), which may be a
 * shared volume (NFS, a ReadWriteMany PVC) under several replicas and runners. Keys are relative
 * paths, `models/<name>/<version>/model.onnx`, stored in the registry row beside the file's sha256.
 *
 * An object store (S3 and alike) would implement the same interface: stage = a multipart upload to a
 * temporary key, place = a copy to the final key (objects cannot be renamed), read = a GET checked
 * against the sha256; docs/scaling-out.md says what else it would take.
 */
export interface ArtifactStore {
  /** Where it is, for messages and `mlops db status`. */
  readonly location: string;
  /** Copies a file into a staging area, fsynced, and hashes it. Nothing reads staged files. */
  stage(sourceFile: string): Promise<StagedArtifact>;
  /**
   * Moves a staged file to the key of a model version (replacing what a registration that crashed
   * before its commit left there), fsyncing the folder; returns the key. Called inside the
   * registration's transaction, after the version number is chosen and before the row is committed.
   */
  place(staged: StagedArtifact, model: string, version: number): Promise<string>;
  /** Removes a placed file whose row was not committed, or a staged one that was never placed. */
  discard(target: StagedArtifact | string): Promise<void>;
  /**
   * The file's bytes, checked against the sha256 the registry holds: a torn, stale or replaced file
   * (a shared mount that has not caught up, a disk error, a hand edit) is refused with MODEL_CORRUPT,
   * never served. Every load of a model goes through here.
   */
  read(key: string, sha256: string): Promise<Buffer>;
  /** The absolute local path of a key, for people (ModelVersion.path) and for tools that open files. */
  localPath(key: string): string;
  /**
   * Removes staging leftovers older than a minute and version folders no committed row owns;
   * `committed` answers from the registry. Returns what it removed, relative to the store.
   */
  sweep(committed: (model: string, version: number) => Promise<boolean>): Promise<string[]>;
}

export interface StagedArtifact {
  /** Where the staged copy is (the store's own business). */
  readonly staged: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** The key of a version's model file, as place() files it and the registry row stores it. */
export function modelKey(model: string, version: number): string {
  return `models/${model}/${version}/model.onnx`;
}
