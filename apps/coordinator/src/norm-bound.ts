// Bounds the L2 norm of one client's update before it reaches the aggregator: norm clipping after Sun, Kairouz,
// Suresh and McMahan, "Can You Really Backdoor Federated Learning?", 2019, https://arxiv.org/abs/1911.07963.
// Clipping scales an oversized delta down to the bound (its direction kept); rejecting refuses it outright.
import { FedtlError } from '@fedtl/util';
import type { NamedTensor } from '@fedtl/protocol';

export const NORM_ACTIONS = ['clip', 'reject'] as const;
export type NormAction = (typeof NORM_ACTIONS)[number];

export interface NormBound {
  /** Largest L2 norm an update may have, over all its tensors together; > 0. */
  maxNorm: number;
  action: NormAction;
}

export interface BoundedDelta {
  delta: NamedTensor[];
  /** The delta's L2 norm as it came. */
  norm: number;
  /** The factor every value was multiplied by (bound / norm), when the delta was clipped. */
  clipFactor?: number;
}

/**
 * The L2 norm over every value of every tensor, summed in float64. Float32 values square to at most about 1.2e77,
 * so the sum cannot overflow for any model that fits in memory. NaN when a value is NaN.
 */
export function l2Norm(tensors: readonly NamedTensor[]): number {
  let sum = 0;
  for (const tensor of tensors) {
    const data = tensor.data;
    for (let i = 0; i < data.length; i++) sum += data[i] * data[i];
  }
  return Math.sqrt(sum);
}

/**
 * Applies the bound to a finite delta (validated before). Returns it unchanged when its norm is within the
 * bound; otherwise a clipped copy (each value times maxNorm / norm, rounded to float32) or, with action
 * `reject`, throws FEDTL_ERR_UPDATE_TOO_LARGE naming the norm and the bound.
 */
export function boundDelta(delta: readonly NamedTensor[], bound: NormBound): BoundedDelta {
  const norm = l2Norm(delta);
  if (norm <= bound.maxNorm) return { delta: delta as NamedTensor[], norm };
  if (bound.action === 'reject') {
    throw new FedtlError('FEDTL_ERR_UPDATE_TOO_LARGE', `expected an update with L2 norm at most ${bound.maxNorm} (--max-update-norm), got ${norm}`, {
      norm,
      maxNorm: bound.maxNorm,
    });
  }
  const clipFactor = bound.maxNorm / norm;
  const clipped = delta.map((tensor) => ({ ...tensor, shape: tensor.shape.slice(), data: Float32Array.from(tensor.data, (value) => value * clipFactor) }));
  return { delta: clipped, norm, clipFactor };
}
