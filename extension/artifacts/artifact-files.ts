// What the runs tree lists under a step, and which editor opens each file. Pure (no vscode import):
// unit-tested in Node; extension/artifacts/open-artifact.ts does the opening.
import path from 'node:path';
import type { StepRecord } from '../../common/contract';
import { artifactFile, isInside } from '../evaluation-pictures';

export interface StepFile {
  /** What the tree shows: the artifact's name, or the executed notebook's. */
  label: string;
  file: string;
  /** The executed copy of a notebook step, rather than a file it wrote. */
  notebook: boolean;
}

/** A step's files: its executed notebook first, then its artifacts; names leading out of the run folder are left out. */
export function stepFiles(runDir: string, step: StepRecord): StepFile[] {
  const files: StepFile[] = [];
  if (step.notebook) {
    const file = path.resolve(runDir, step.notebook);
    if (isInside(runDir, file) && file !== path.resolve(runDir)) files.push({ label: step.notebook, file, notebook: true });
  }
  for (const name of step.artifacts) {
    const file = artifactFile(runDir, name);
    if (file) files.push({ label: name, file, notebook: false });
  }
  return files;
}

/** How VS Code shows a file: a notebook editor, an image preview, a text editor, or its default (e.g. binary) editor. */
export type Viewer = 'notebook' | 'image' | 'text' | 'default';

const VIEWERS: Record<string, Viewer> = {
  '.ipynb': 'notebook',
  '.svg': 'image',
  '.png': 'image',
  '.jpg': 'image',
  '.jpeg': 'image',
  '.gif': 'image',
  '.csv': 'text',
  '.tsv': 'text',
  '.json': 'text',
  '.jsonl': 'text',
  '.txt': 'text',
  '.log': 'text',
  '.md': 'text',
  '.yaml': 'text',
  '.yml': 'text',
  '.py': 'text',
};

export function viewerFor(file: string): Viewer {
  return VIEWERS[path.extname(file).toLowerCase()] ?? 'default';
}
