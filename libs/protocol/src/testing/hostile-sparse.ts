// Test support: Updates whose sparse tensors (tensor.proto fields 8-10) break the layout rules in one way each, as
// a hostile client could write them, for the coordinator's hostile-message fuzz. Written with the generated code
// directly: fedtl's own encoder cannot produce any of them.
import { encodeEvaluateRequest, encodeRoundPlan, encodeUpdate } from '../codec';
import type { EvaluateRequest, RoundPlan, Update } from '../domain';
import { FIELD_LIMITS } from '../field-limits';
import { fedtl } from '../generated/fedtl';

import v1 = fedtl.v1;

/** Faults of one tensor's sparse layout: refused from the tensor alone, whatever the receiver's model. */
export const SPARSE_LAYOUT_FAULTS = [
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
/** Well-formed sparse tensors that claim far more values than the receiver's model has (see encodeHostileSparseUpdate). */
export const SPARSE_INFLATION_FAULTS = ['inflated-shapes', 'inflated-unknown-name'] as const;
export const SPARSE_FAULTS = [...SPARSE_LAYOUT_FAULTS, ...SPARSE_INFLATION_FAULTS] as const;
export type SparseFault = (typeof SPARSE_FAULTS)[number];
export type SparseLayoutFault = (typeof SPARSE_LAYOUT_FAULTS)[number];

/**
 * `update` encoded with every delta tensor sparse (its non-zero entries), then its first tensor broken by `fault`.
 * The first tensor should have at least two values. The `inflated-*` faults break every tensor: each claims
 * FIELD_LIMITS.sparseDenseValuesPerMessage values (one entry, a few bytes), so a receiver that expands before it
 * checks names and shapes allocates the whole per-message budget for the first and refuses the second as over it;
 * `inflated-unknown-name` also renames the first tensor to one no model has.
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
    case 'inflated-shapes':
    case 'inflated-unknown-name':
      for (const tensor of wire.delta) {
        tensor.shape = [FIELD_LIMITS.sparseDenseValuesPerMessage];
        tensor.sparseCount = 1;
        tensor.sparseIndices = Uint8Array.of(0);
        tensor.sparseValues = v1.TensorEncoding.TENSOR_ENCODING_RAW;
        tensor.data = float32Values(1);
      }
      if (fault === 'inflated-unknown-name') first.name = 'backbone/secret';
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

/** The shape an inflated weight tensor claims: 16,773,120 values, just under the per-message sparse budget. */
export const INFLATED_SHAPE = [4096, 4095];

/**
 * `plan` with its first weight tensor sparse, listing no entry, its header claiming INFLATED_SHAPE: a few bytes a
 * hostile coordinator could send that expand to 64 MiB in a receiver that does not check headers first.
 */
export function encodeInflatedRoundPlan(plan: RoundPlan): Uint8Array {
  return v1.RoundPlan.encode(inflateFirst(v1.RoundPlan.decode(encodeRoundPlan(plan, { tensorEncoding: 'sparse' })))).finish();
}

/** `request` inflated as encodeInflatedRoundPlan inflates a plan. */
export function encodeInflatedEvaluateRequest(request: EvaluateRequest): Uint8Array {
  return v1.EvaluateRequest.encode(inflateFirst(v1.EvaluateRequest.decode(encodeEvaluateRequest(request, { tensorEncoding: 'sparse' })))).finish();
}

function inflateFirst<M extends { weights: v1.ITensor[] }>(message: M): M {
  Object.assign(message.weights[0], { shape: INFLATED_SHAPE, sparseCount: 0, sparseIndices: new Uint8Array(0), data: new Uint8Array(0) });
  return message;
}
