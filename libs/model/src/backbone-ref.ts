// The BackboneRef for any backbone spec, computed from files on disk without loading a model: the
// coordinator pins the federation's backbone with it and never needs the weights in memory.
import type { BackboneRef } from '@fedtl/protocol';
import { FedtlError } from '@fedtl/util';
import { fingerprintBackbone } from './backbone';
import { PRECOMPUTED_PREFIX, precomputedBackboneRef } from './precomputed';

export async function backboneRefFor(spec: string): Promise<BackboneRef> {
  if (spec.startsWith(PRECOMPUTED_PREFIX)) {
    const dim = Number(spec.slice(PRECOMPUTED_PREFIX.length));
    if (!Number.isInteger(dim) || dim < 1) {
      throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `expected precomputed:DIM with a positive integer DIM, got "${spec}"`);
    }
    return precomputedBackboneRef(dim);
  }
  return fingerprintBackbone(spec);
}
