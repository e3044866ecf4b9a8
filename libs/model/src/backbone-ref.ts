// The BackboneRef for any backbone spec, computed from files on disk without loading a model: the
// coordinator pins the federation's backbone with it and never needs the weights in memory.
import type { BackboneRef } from '@fedtl/protocol';
import { FedtlError } from '@fedtl/util';
import { fingerprintBackbone } from './backbone';
import { PRECOMPUTED_PREFIX, precomputedBackboneRef } from './precomputed';

/**
 * The widest precomputed feature vector accepted: sentence encoders give 256 to 4,096 features; far beyond that
 * the model's first layer alone would not fit in memory (a typed array of DIM × width floats).
 */
export const MAX_PRECOMPUTED_DIM = 65_536;

/**
 * The BackboneRef of a --backbone spec (use-lite, tfjs-model:DIR, precomputed:DIM).
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG for a precomputed DIM outside [1, MAX_PRECOMPUTED_DIM].
 */
export async function backboneRefFor(spec: string): Promise<BackboneRef> {
  if (spec.startsWith(PRECOMPUTED_PREFIX)) {
    const dim = Number(spec.slice(PRECOMPUTED_PREFIX.length));
    if (!Number.isInteger(dim) || dim < 1 || dim > MAX_PRECOMPUTED_DIM) {
      throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--backbone: expected precomputed:DIM with an integer DIM in [1, ${MAX_PRECOMPUTED_DIM}], got "${spec}"`);
    }
    return precomputedBackboneRef(dim);
  }
  return fingerprintBackbone(spec);
}
