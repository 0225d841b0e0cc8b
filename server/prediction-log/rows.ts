// What the prediction log gets of a request's inputs: every feature as a number in one row-major
// array (booleans 0/1, strings beside it), with one character per feature telling the writer thread
// how to write it back as JSON. Made once per signature; one array per request, none per row.
import type { ModelSignature, TensorType } from '../../common/contract';
import { featureSlots, type InputBatch } from '../../common/tensor-layout';

/** 'f' float32 (written as the shortest float32 decimal), 'd' other numbers, 'b' boolean, 's' string. */
export type LogKind = 'f' | 'd' | 'b' | 's';

export interface LogLayout {
  features: string[];
  /** One LogKind per feature. */
  kinds: string;
  slots: { input: string; stride: number; offset: number; type: TensorType }[];
  hasStrings: boolean;
}

const layouts = new WeakMap<ModelSignature, LogLayout>();

function kindOf(type: TensorType): LogKind {
  if (type === 'float32') return 'f';
  if (type === 'bool') return 'b';
  if (type === 'string') return 's';
  return 'd';
}

export function logLayoutOf(signature: ModelSignature): LogLayout {
  let layout = layouts.get(signature);
  if (!layout) {
    layout = {
      features: signature.features.map((f) => f.name),
      kinds: signature.features.map((f) => kindOf(f.type)).join(''),
      slots: featureSlots(signature).map((s) => ({ input: s.input.name, stride: s.stride, offset: s.offset, type: s.feature.type })),
      hasStrings: signature.features.some((f) => f.type === 'string'),
    };
    layouts.set(signature, layout);
  }
  return layout;
}

/** The batch as N × features numbers (NaN for a string, whose value is at the same index of `strings`). */
export function logRows(layout: LogLayout, batch: InputBatch): { rows: Float64Array; strings: string[] | null } {
  const f = layout.slots.length;
  const rows = new Float64Array(batch.n * f);
  const strings = layout.hasStrings ? new Array<string>(batch.n * f) : null;
  for (let j = 0; j < f; j++) {
    const slot = layout.slots[j];
    const buffer = batch.buffers.get(slot.input)!;
    for (let i = 0, at = slot.offset; i < batch.n; i++, at += slot.stride) {
      if (Array.isArray(buffer)) {
        strings![i * f + j] = buffer[at];
        rows[i * f + j] = NaN;
      } else rows[i * f + j] = Number(buffer[at]);
    }
  }
  return { rows, strings };
}
