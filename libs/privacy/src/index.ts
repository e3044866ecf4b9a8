// Secure aggregation building blocks (Bonawitz et al., CCS 2017): fixed-point ring encoding, the mask PRG,
// X25519 pairwise seeds, double masking / unmasking, Shamir sharing of a client's secrets and the authenticated
// encryption of those shares between clients (round 1, ShareKeys); and the differential-privacy accountant.
// Nothing here talks to the network.
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
  exportX25519PrivateKey,
  generateX25519KeyPair,
  importX25519PrivateKey,
  importX25519PublicKey,
  X25519_PRIVATE_KEY_BYTES,
  X25519_PUBLIC_KEY_BYTES,
  type PairwiseAgreement,
  type X25519KeyPair,
} from './key-agreement';
export { expandMask, generateMaskSeed, SEED_BYTES, type MaskPurpose } from './mask-prg';
export { maskInput, unmaskSum, type MaskingInput, type UnmaskingInput } from './masking';
export { planSession, type SecAggContext } from './secagg-context';
export {
  MAX_SECRET_BYTES,
  MAX_SHARES,
  reconstructSecret,
  SHARE_OVERHEAD_BYTES,
  shareSecret,
} from './secret-sharing';
export {
  decryptShare,
  encryptShares,
  SHARE_NONCE_BYTES,
  SHARE_TAG_BYTES,
  type EncryptedShare,
  type ShareDecryptionInput,
  type ShareEncryptionInput,
  type SharePair,
  type ShareRecipient,
} from './share-encryption';
export {
  assertPrivacyPolicy,
  describePolicy,
  PERMISSIVE_POLICY,
  policyRequiresSecureAggregation,
  policyViolation,
  type PolicyRequest,
  type PrivacyPolicy,
} from './privacy-policy';
export {
  assertVectorTerms,
  chooseFractionalBits,
  packContribution,
  secAggVectorLength,
  unpackAggregate,
  type PackedContribution,
  type SecAggAggregate,
  type SecAggContribution,
  type SecAggVectorTerms,
} from './secagg-vector';
// Differential privacy: the RDP accountant of the sampled Gaussian mechanism (Mironov et al. 2019).
export {
  DEFAULT_RDP_ORDERS,
  deltaFromRdp,
  epsilonFromRdp,
  RdpAccountant,
  sampledGaussianRdp,
  type SampledGaussianEvent,
} from './dp/rdp-accountant';
export { noiseMultiplierFor, type NoiseCalibration } from './dp/calibrate-noise';
export {
  checkBudget,
  PrivacyLedger,
  type PrivacyBudget,
  type PrivacyEvent,
  type PrivacySpend,
  type PrivacyUnit,
} from './dp/privacy-ledger';
export { addGaussianNoiseInPlace, clipInPlace, l2NormOf, type ClipOutcome } from './dp/clip-update';
export { cryptoRandomness, gaussianFrom, type DpRandomness, type GaussianSource } from './dp/crypto-randomness';
