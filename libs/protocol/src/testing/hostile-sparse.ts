// Test support: Updates whose sparse tensors (tensor.proto fields 8-10) break the layout rules in one way each, as
// a hostile client could write them, for the coordinator's hostile-message fuzz. Written with the generated code
// directly: fedtl's own encoder cannot produce any of them.
import { encodeUpdate } from '../codec';
import type { Update } from '../domain';
import { fedtl } from '../generated/fedtl';

import v1 = fedtl.v1;

export const SPARSE_FAULTS = [
  'out-of-range',
  'duplicate',
  'unsorted',
  'count-above-values',
  'count-above-dense',
  'truncated-indices',
  'trailing-index-bytes',
  'overlong-varint',
  'huge-count',
  'huge-shape',
  'int8-values',
] as const;
export type SparseFault = (typeof SPARSE_FAULTS)[number];

/**
 * `update` encoded with every delta tensor sparse (its non-zero entries), then its first tensor broken by `fault`.
 * The first tensor should have at least two values.
 */
export function encodeHostileSparseUpdate(update: Update, fault: SparseFault): Uint8Array {
  const wire = v1.Update.decode(encodeUpdate(update, { tensorEncoding: 'sparse' }));
  const first = wire.delta[0];
  const dense = (first.shape ?? []).reduce((count, dim) => count * dim, 1);
  const float32Values = (count: number) => new Uint8Array(new Float32Array(count).fill(0.5).buffer);
  const set = (count: number, indices: number[], values = float32Values(count)) => {
    first.sparseCount = count;
    first.sparseIndices = Uint8Array.from(indices);
    first.sparseValues = v1.TensorEncoding.TENSOR_ENCODING_RAW;
    first.data = values;
  };
  switch (fault) {
    case 'out-of-range':
      // One entry at position `dense` (the varint of dense written out).
      set(1, varint(dense));
      break;
    case 'duplicate':
      set(2, [1, 0]);
      break;
    case 'unsorted':
      // "Position 1, then position 0" can only be written as a step back past the end: a huge gap wraps nowhere.
      set(2, [1, ...varint(2 ** 32 - 1)]);
      break;
    case 'count-above-values':
      set(3, [0, 1, 1], float32Values(2));
      break;
    case 'count-above-dense':
      set(dense + 1, new Array(dense + 1).fill(1));
      break;
    case 'truncated-indices':
      set(2, [0, 0x81]);
      break;
    case 'trailing-index-bytes':
      set(1, [0, 1]);
      break;
    case 'overlong-varint':
      set(1, [0x80, 0x80, 0x80, 0x80, 0x80, 0x00]);
      break;
    case 'huge-count':
      set(4_000_000_000, [0], float32Values(1));
      break;
    case 'huge-shape':
      first.shape = [2 ** 31, 2 ** 31];
      set(1, [0]);
      break;
    case 'int8-values':
      set(1, [0], new Uint8Array(1));
      first.sparseValues = v1.TensorEncoding.TENSOR_ENCODING_INT8;
      break;
  }
  return v1.Update.encode(wire).finish();
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return bytes;
}
