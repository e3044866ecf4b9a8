// Secure aggregation building blocks (Bonawitz et al., CCS 2017): fixed-point ring encoding, the mask PRG,
// X25519 pairwise seeds, and double masking / unmasking. Nothing here talks to the network.
export {
  addInPlace,
  FixedPointCodec,
  RING_BITS,
  subtractInPlace,
  type EncodedVector,
  type FixedPointOptions,
} from './fixed-point';
export {
  compareClientIds,
  derivePairwiseSeed,
  generateX25519KeyPair,
  importX25519PublicKey,
  X25519_PUBLIC_KEY_BYTES,
  type PairwiseAgreement,
  type X25519KeyPair,
} from './key-agreement';
export { expandMask, generateMaskSeed, SEED_BYTES, type MaskPurpose } from './mask-prg';
export { maskInput, unmaskSum, type MaskingInput, type UnmaskingInput } from './masking';
export { type SecAggContext } from './secagg-context';
