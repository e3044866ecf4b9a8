// Double masking of one client's encoded update, and the server's unmasking of the sum.
//
// Bonawitz et al., CCS 2017 (https://eprint.iacr.org/2017/281), §4 ("one-time pads", "double masking") and §5
// (round 2 MaskedInputCollection, round 4 Unmasking). A client u in U2 (the clients whose keys were
// shared) sends
//   y_u = x_u + PRG(b_u) + Σ_{v ∈ U2, v > u} PRG(s_{u,v}) − Σ_{v ∈ U2, v < u} PRG(s_{u,v})   (mod 2^32)
// with ids ordered by compareClientIds. Over the survivors U3 ⊆ U2 (whose y_u arrived), the pairwise masks between
// two survivors cancel in Σ y_u; the server removes what is left with, per survivor, its self-mask seed b_u, and,
// per dropped client v ∈ U2 \ U3, the pairwise seeds s_{u,v} with every survivor u (both reconstructed from Shamir
// shares in the full protocol; here they are inputs). It must never hold both kinds of secret for one client:
// with b_u and all of u's pairwise seeds, y_u alone gives x_u, whether u survived or its y_u only arrived late
// (§4, "double masking"). unmaskSum refuses inputs that would hold both.
import { FedtlError } from '@fedtl/util';
import { addInPlace, subtractInPlace } from './fixed-point';
import { compareClientIds } from './key-agreement';
import { assertSeed, expandMask } from './mask-prg';
import { assertSecAggContext, type SecAggContext } from './secagg-context';

/** What client u needs to mask its encoded update in round 2 (MaskedInputCollection) of Bonawitz et al. 2017, §5. */
export interface MaskingInput {
  readonly context: SecAggContext;
  /** u: this client's id. */
  readonly clientId: string;
  /** x_u: the fixed-point encoded update (see FixedPointCodec), n elements of Z_{2^32}. Not modified. */
  readonly encoded: Uint32Array;
  /** b_u: this client's 32-byte self-mask seed for the round. */
  readonly selfMaskSeed: Uint8Array;
  /** s_{u,v} for every other client v in U2, keyed by v's id (32 bytes each, from derivePairwiseSeed). */
  readonly pairwiseSeeds: ReadonlyMap<string, Uint8Array>;
}

/**
 * y_u, the masked update (n elements of Z_{2^32}, a new array). Throws FEDTL_ERR_MALFORMED_MESSAGE for a seed that
 * is not 32 bytes, FEDTL_ERR_INTERNAL when the pairwise seeds name the client itself, FEDTL_ERR_BAD_CONFIG for a
 * bad context.
 */
export function maskInput(input: MaskingInput): Uint32Array {
  const { context, clientId, encoded } = input;
  assertSecAggContext(context);
  assertSeed(input.selfMaskSeed, `masking of "${clientId}": self-mask seed`);
  const masked = Uint32Array.from(encoded);
  addInPlace(masked, expandMask(input.selfMaskSeed, masked.length, context, 'self-mask'));
  for (const [peerId, seed] of input.pairwiseSeeds) {
    const order = compareClientIds(clientId, peerId);
    if (order === 0) {
      throw new FedtlError(
        'FEDTL_ERR_INTERNAL',
        `masking of "${clientId}": expected pairwise seeds for other clients only, got one for "${clientId}" itself`,
      );
    }
    assertSeed(seed, `masking of "${clientId}": pairwise seed with "${peerId}"`);
    const mask = expandMask(seed, masked.length, context, 'pairwise-mask');
    if (order < 0) addInPlace(masked, mask);
    else subtractInPlace(masked, mask);
  }
  return masked;
}

/** "none for [a, b] and some for non-survivors [c]", leaving out an empty half. */
function listProblems(firstLabel: string, first: string[], secondLabel: string, second: string[]): string {
  const parts: string[] = [];
  if (first.length > 0) parts.push(`${firstLabel} [${first.join(', ')}]`);
  if (second.length > 0) parts.push(`${secondLabel} [${second.join(', ')}]`);
  return parts.join(' and ');
}

/** What the server needs to unmask the sum of the survivors' masked updates (§5, round 4 Unmasking). */
export interface UnmaskingInput {
  readonly context: SecAggContext;
  /** Σ_{u ∈ U3} y_u mod 2^32: the sum of the masked updates that arrived. Not modified. */
  readonly maskedSum: Uint32Array;
  /** U3: the ids of the clients whose masked update is in `maskedSum`. */
  readonly survivors: readonly string[];
  /** b_u for every survivor u, and for no other client. */
  readonly selfMaskSeeds: ReadonlyMap<string, Uint8Array>;
  /**
   * For every dropped client v ∈ U2 \ U3: s_{u,v} with every survivor u, as a map survivor id → seed. Empty when
   * nobody dropped after sharing keys.
   */
  readonly droppedPairwiseSeeds: ReadonlyMap<string, ReadonlyMap<string, Uint8Array>>;
}

/**
 * Σ_{u ∈ U3} x_u mod 2^32 (a new array; decode it with FixedPointCodec.decodeSum and |U3| summands).
 * Refuses inputs that do not fit together, naming what was expected and what came (FEDTL_ERR_INTERNAL: they are
 * the coordinator's own bookkeeping): a repeated or missing survivor, a self-mask seed missing for a survivor or
 * given for anyone else, a dropped client that is also a survivor (both kinds of secret for one client: the
 * protocol's core safety rule), or a dropped client without a seed for each survivor. Seeds that are not 32
 * bytes: FEDTL_ERR_MALFORMED_MESSAGE.
 */
export function unmaskSum(input: UnmaskingInput): Uint32Array {
  const { context, maskedSum, selfMaskSeeds, droppedPairwiseSeeds } = input;
  assertSecAggContext(context);
  assertUnmaskingInputsFit(input);
  const sum = Uint32Array.from(maskedSum);
  for (const [id, seed] of selfMaskSeeds) {
    assertSeed(seed, `unmasking: self-mask seed of "${id}"`);
    subtractInPlace(sum, expandMask(seed, sum.length, context, 'self-mask'));
  }
  for (const [droppedId, seeds] of droppedPairwiseSeeds) {
    for (const [survivorId, seed] of seeds) {
      assertSeed(seed, `unmasking: pairwise seed of "${survivorId}" and "${droppedId}"`);
      const mask = expandMask(seed, sum.length, context, 'pairwise-mask');
      // y_survivor added this mask when survivor < dropped and subtracted it otherwise; undo that.
      if (compareClientIds(survivorId, droppedId) < 0) subtractInPlace(sum, mask);
      else addInPlace(sum, mask);
    }
  }
  return sum;
}

/** The consistency checks listed on {@link unmaskSum}, all made before any mask is expanded. */
function assertUnmaskingInputsFit({ survivors, selfMaskSeeds, droppedPairwiseSeeds }: UnmaskingInput): void {
  const survivorSet = new Set(survivors);
  if (survivors.length === 0 || survivorSet.size !== survivors.length) {
    throw new FedtlError(
      'FEDTL_ERR_INTERNAL',
      `unmasking: expected at least one survivor and no id twice, got [${survivors.join(', ')}]`,
    );
  }
  const unexpected = [...selfMaskSeeds.keys()].filter((id) => !survivorSet.has(id));
  const missing = survivors.filter((id) => !selfMaskSeeds.has(id));
  if (unexpected.length > 0 || missing.length > 0) {
    throw new FedtlError(
      'FEDTL_ERR_INTERNAL',
      `unmasking: expected a self-mask seed for each survivor and nobody else, got ` +
        listProblems('none for', missing, 'some for non-survivors', unexpected),
    );
  }
  for (const [droppedId, seeds] of droppedPairwiseSeeds) {
    if (survivorSet.has(droppedId)) {
      throw new FedtlError(
        'FEDTL_ERR_INTERNAL',
        `unmasking: expected pairwise seeds of dropped clients only, got some for survivor "${droppedId}" ` +
          `(with its self-mask seed they would reveal its update)`,
      );
    }
    const lacking = survivors.filter((id) => !seeds.has(id));
    const extra = [...seeds.keys()].filter((id) => !survivorSet.has(id));
    if (lacking.length > 0 || extra.length > 0) {
      throw new FedtlError(
        'FEDTL_ERR_INTERNAL',
        `unmasking: expected dropped client "${droppedId}"'s pairwise seed with each survivor, got ` +
          listProblems('none with', lacking, 'some with non-survivors', extra),
      );
    }
  }
}
