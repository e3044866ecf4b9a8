// A "backbone" for features computed outside fedtl: clients bring vectors of a fixed width. The hash pins
// only the width, so such a federation trusts its members to use the same feature extractor.
import { createHash } from 'node:crypto';
import type { BackboneRef } from '@fedtl/protocol';

export const PRECOMPUTED_PREFIX = 'precomputed:';

export function precomputedBackboneRef(dim: number): BackboneRef {
  const id = `${PRECOMPUTED_PREFIX}${dim}`;
  return { id, contentHash: createHash('sha256').update(id).digest('hex'), dim };
}
