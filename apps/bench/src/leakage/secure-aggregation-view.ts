// What the coordinator sees of a round under secure aggregation (Bonawitz et al., "Practical Secure Aggregation
// for Privacy-Preserving Machine Learning", CCS 2017, https://eprint.iacr.org/2017/281), built only from
// @fedtl/privacy: each client packs its delta into the secure-aggregation vector (packContribution), encodes it
// in Z_2^32 (FixedPointCodec), masks it with a fresh self-mask seed and X25519 pairwise seeds with every other
// client of the round (maskInput); the coordinator holds each client's masked vector y_u and, after the
// unmasking round, the sum (unmaskSum, then unpackAggregate). No dropouts: every client survives.
import type { NamedTensor } from '@fedtl/protocol';
import {
  FixedPointCodec,
  addInPlace,
  chooseFractionalBits,
  derivePairwiseSeed,
  generateMaskSeed,
  generateX25519KeyPair,
  importX25519PrivateKey,
  maskInput,
  packContribution,
  planSession,
  unmaskSum,
  unpackAggregate,
  type SecAggContext,
  type SecAggVectorTerms,
  type X25519KeyPair,
} from '@fedtl/privacy';
import { createPublicKey } from 'node:crypto';
import { FedtlError } from '@fedtl/util';
import { unflattenUpdate } from './observed-update';

/** One client's part of a secure round. */
export interface SecureContribution {
  clientId: string;
  delta: readonly NamedTensor[];
  numExamples: number;
}

export interface SecureRoundOptions {
  runId: string;
  round: number;
  /** The plan as sent, whose SHA-256 is the session every key is bound to (any bytes that identify it). */
  planBytes: Uint8Array;
  /** The L2 clip of each delta and the bound of every entry (the coordinator's --max-update-norm, default 100). */
  clip: number;
  /**
   * Where the clients' secrets come from: 32 bytes for a label ("<client>/self-mask", "<client>/mask-key").
   * Default: the OS CSPRNG, as in the real protocol. The audit derives them from its seed instead, so that a run
   * repeats exactly (the masks stay AES-CTR keystreams, uniform whatever their 32-byte seeds).
   */
  secretBytes?: (label: string) => Uint8Array;
}

/** An X25519 key pair whose private key is the given 32 bytes. */
function keyPairFrom(raw: Uint8Array): X25519KeyPair {
  const privateKey = importX25519PrivateKey(raw);
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x as string;
  return { privateKey, publicKey: new Uint8Array(Buffer.from(x, 'base64url')) };
}

/** What the coordinator holds after the round. */
export interface SecureRoundView {
  /** Each client's masked vector y_u, decoded as if it were a plain delta (the coordinator cannot remove masks). */
  maskedAsDelta: Map<string, NamedTensor[]>;
  /** The unmasked aggregate: the weighted mean delta Σ w_u Δ_u / Σ w_u of all clients. */
  meanDelta: NamedTensor[];
  /** Σ of the clients' example counts (what the coordinator learns of them). */
  totalExamples: number;
  fractionalBits: number;
}

/**
 * Runs the masking and unmasking of one round for `contributions` (at least two, distinct ids, same tensors).
 * Throws FEDTL_ERR_BAD_CONFIG for fewer than two clients, and whatever @fedtl/privacy throws.
 */
export function secureRound(contributions: readonly SecureContribution[], options: SecureRoundOptions): SecureRoundView {
  if (contributions.length < 2 || new Set(contributions.map((c) => c.clientId)).size !== contributions.length) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `secure round: expected at least two clients with distinct ids, got [${contributions.map((c) => c.clientId).join(', ')}]`);
  }
  const like = contributions[0].delta;
  const sizes = like.map((t) => t.data.length);
  const weightBound = Math.max(...contributions.map((c) => c.numExamples));
  const terms: SecAggVectorTerms = { clip: options.clip, weightBound, weightCap: weightBound, metricSlots: [] };
  const fractionalBits = chooseFractionalBits(contributions.length, options.clip);
  const codec = new FixedPointCodec({ fractionalBits, clip: options.clip, maxSummands: contributions.length });
  const context: SecAggContext = { runId: options.runId, round: options.round, session: planSession(options.planBytes) };
  const secret = options.secretBytes;
  const keys = new Map(contributions.map((c) => [c.clientId, secret ? keyPairFrom(secret(`${c.clientId}/mask-key`)) : generateX25519KeyPair()]));
  const selfMaskSeeds = new Map(contributions.map((c) => [c.clientId, secret ? secret(`${c.clientId}/self-mask`) : generateMaskSeed()]));
  const maskedSum = new Uint32Array(sizes.reduce((a, b) => a + b, 0) + 1);
  const maskedAsDelta = new Map<string, NamedTensor[]>();
  for (const client of contributions) {
    const own = keys.get(client.clientId);
    const selfMaskSeed = selfMaskSeeds.get(client.clientId);
    if (!own || !selfMaskSeed) throw new FedtlError('FEDTL_ERR_INTERNAL', `secure round: no keys for "${client.clientId}"`);
    const pairwiseSeeds = new Map<string, Uint8Array>();
    for (const [peerId, peer] of keys) {
      if (peerId === client.clientId) continue;
      pairwiseSeeds.set(peerId, derivePairwiseSeed({ ownId: client.clientId, ownPrivateKey: own.privateKey, peerId, peerPublicKey: peer.publicKey }, context));
    }
    const packed = packContribution({ deltas: client.delta.map((t) => Float32Array.from(t.data)), numExamples: client.numExamples, metrics: {} }, terms);
    const masked = maskInput({ context, clientId: client.clientId, encoded: codec.encode(packed.values).values, selfMaskSeed, pairwiseSeeds });
    addInPlace(maskedSum, masked);
    maskedAsDelta.set(client.clientId, unflattenUpdate(codec.decodeSum(masked, 1).subarray(0, maskedSum.length - 1), like));
  }
  const sum = unmaskSum({ context, maskedSum, survivors: contributions.map((c) => c.clientId), selfMaskSeeds, droppedPairwiseSeeds: new Map() });
  const aggregate = unpackAggregate(codec.decodeSum(sum, contributions.length), sizes, terms);
  const meanDelta = like.map((t, i) => ({ name: t.name, shape: t.shape.slice(), dtype: 'float32' as const, data: aggregate.meanDeltas[i] }));
  return { maskedAsDelta, meanDelta, totalExamples: contributions.reduce((sum, c) => sum + c.numExamples, 0), fractionalBits };
}
