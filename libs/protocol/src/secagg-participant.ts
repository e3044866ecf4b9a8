// One client's side of one secure-aggregation round attempt, without any transport.
//
// Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine Learning", CCS 2017
// (https://eprint.iacr.org/2017/281), §4 (double masking, the safety rule) and §5 / Figure 4 (rounds 0–4), in its
// honest-but-curious form as proto/fedtl/v1/secagg.proto specifies it (that file's header is the spec; the
// cryptography is @fedtl/privacy's). The participant is driven by its owner in protocol order:
//
//   advertise()            round 0 AdvertiseKeys     c_u, s_u: two fresh X25519 key pairs
//   onKeyDirectory(U1)     round 1 ShareKeys         b_u and s_u^SK split t-of-|U1|, encrypted to each v ≠ u
//   onShareDelivery(…)     round 2 (input)           U2 = senders ∪ {u}, pairwise seeds s_{u,v} for v ∈ U2 \ {u}
//   maskedInput(update)    round 2 MaskedInput       y_u = x_u + PRG(b_u) ± Σ PRG(s_{u,v})  (mod 2^32)
//   onUnmaskRequest(…)     round 4 UnmaskShares      b_v shares of survivors, s_v^SK shares of dropped clients
//
// Every method checks that its message belongs to this run, round and attempt (FEDTL_ERR_WRONG_RUN,
// FEDTL_ERR_WRONG_ROUND) and comes in order (FEDTL_ERR_SECAGG_VIOLATION). A refused message changes nothing.
import type { KeyObject } from 'node:crypto';
import {
  compareClientIds,
  decryptShare,
  derivePairwiseSeed,
  encryptShares,
  exportX25519PrivateKey,
  assertVectorTerms,
  FixedPointCodec,
  generateMaskSeed,
  generateX25519KeyPair,
  maskInput,
  packContribution,
  RING_BITS,
  shareSecret,
  type PrivacyPolicy,
  type SecAggContext,
  type SecAggContribution,
  type SecAggVectorTerms,
  type SharePair,
  type X25519KeyPair,
} from '@fedtl/privacy';
import type { SecAggParams } from './domain';
import type { UnmaskLedger } from './unmask-ledger';
import type {
  AdvertiseKeys,
  ClientKeys,
  EncryptedSharePair,
  KeyDirectory,
  MaskedInput,
  RevealedShare,
  SecAggStep,
  ShareDelivery,
  ShareKeys,
  UnmaskRequest,
  UnmaskShares,
} from './secagg-domain';
import { FedtlError, errorMessage } from '@fedtl/util';

export interface SecAggParticipantOptions {
  /** u: this client's id in the run. */
  readonly clientId: string;
  readonly runId: string;
  readonly round: number;
  /** The round attempt's terms, from RoundPlan.secureAggregation. */
  readonly params: SecAggParams;
  /** The attempt's session: planSession(the RoundPlan payload bytes as received). */
  readonly session: string;
  /** This client's privacy policy: minOtherContributors is checked against t, |U1| and |U2|. */
  readonly policy: PrivacyPolicy;
  /**
   * The round's model state (roundStateDigest of the plan) and the client's ledger across attempts: with both,
   * the client helps unmask one model state for one survivor set only (unmask-ledger.ts explains why).
   */
  readonly modelState?: string;
  readonly unmaskLedger?: UnmaskLedger;
}

/** How the delta was packed, for the owner's log (see packContribution). */
export interface PackingReport {
  /** L2 norm of the delta before clipping. */
  readonly norm: number;
  /** The factor the delta was scaled by to reach the L2 bound `clip`; absent when it was within it. */
  readonly clipFactor?: number;
  /** w_u = min(examples, weightCap). */
  readonly weight: number;
}

type Phase = 'created' | 'advertised' | 'sharing' | 'shared' | 'delivered' | 'masked';

/** The protocol step each phase waits for, named in out-of-order refusals. */
const NEXT_STEP: Record<Phase, string> = {
  created: 'advertise()',
  advertised: 'the KeyDirectory (secagg-keys)',
  sharing: 'the end of ShareKeys',
  shared: 'the ShareDelivery (secagg-share-delivery)',
  delivered: 'its masked input',
  masked: 'an UnmaskRequest (secagg-unmask)',
};

function violation(message: string, details: Record<string, unknown> = {}): FedtlError {
  return new FedtlError('FEDTL_ERR_SECAGG_VIOLATION', `secure aggregation: ${message}`, details);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function listIds(ids: Iterable<string>): string {
  return `[${[...ids].join(', ')}]`;
}

/** The ids of `ids` that occur more than once. */
function repeated(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const id of ids) (seen.has(id) ? twice : seen).add(id);
  return [...twice];
}

/** A client's view of one round attempt under secure aggregation (see the file header for the order of calls). */
export class SecAggParticipant {
  readonly clientId: string;
  readonly context: SecAggContext;
  readonly params: SecAggParams;
  /** Set by maskedInput: how the delta was packed. */
  packing?: PackingReport;

  private readonly policy: PrivacyPolicy;
  private readonly modelState?: string;
  private readonly unmaskLedger?: UnmaskLedger;
  private readonly codec: FixedPointCodec;
  private phase: Phase = 'created';
  /** c_u: decrypts the shares other clients sent (round 4). */
  private encryptionKeys?: X25519KeyPair;
  /** s_u: pairwise seeds (round 2); dropped once they are derived. */
  private maskKeys?: X25519KeyPair;
  /** b_u: 32 bytes; zeroed once y_u is made. */
  private selfMaskSeed?: Uint8Array;
  /** U1 by id, as the KeyDirectory listed it. */
  private directory = new Map<string, ClientKeys>();
  /** This client's own shares of b_u and s_u^SK (kept, never sent except as its own b_u share in round 4). */
  private ownShares?: SharePair;
  /** e_{v,u} for every v ∈ U2 \ {u}, as delivered. */
  private inbox = new Map<string, EncryptedSharePair>();
  /** U2: the senders of the delivered shares and this client. */
  private sharedKeys = new Set<string>();
  /** s_{u,v} for v ∈ U2 \ {u}; zeroed once y_u is made. */
  private pairwiseSeeds = new Map<string, Uint8Array>();
  /** The first UnmaskRequest this client answered, and its answer: a later request must repeat it. */
  private answered?: { survivors: string[]; dropped: string[]; reply: UnmaskShares };

  /**
   * Throws FEDTL_ERR_SECAGG_VIOLATION for terms this client cannot carry out safely (a ring other than 2^32, a
   * threshold outside [2, numSelected], fixed-point terms whose sum could wrap), FEDTL_ERR_POLICY_REFUSED when
   * the threshold is below the policy's minOtherContributors + 1.
   */
  constructor(options: SecAggParticipantOptions) {
    const { clientId, runId, round, params, session, policy } = options;
    this.clientId = clientId;
    this.modelState = options.modelState;
    this.unmaskLedger = options.unmaskLedger;
    this.context = { runId, round, session };
    this.params = params;
    this.policy = policy;
    if (params.ringBits !== RING_BITS) {
      throw violation(`expected ring_bits ${RING_BITS} (Z_2^${RING_BITS}, the only ring of secagg/v1), got ${params.ringBits}`, { ringBits: params.ringBits });
    }
    if (!Number.isSafeInteger(params.threshold) || params.threshold < 2 || params.threshold > params.numSelected) {
      throw violation(`expected a threshold in [2, numSelected = ${params.numSelected}], got ${params.threshold}`);
    }
    if (params.threshold - 1 < policy.minOtherContributors) {
      throw new FedtlError(
        'FEDTL_ERR_POLICY_REFUSED',
        `expected a secure-aggregation threshold of at least ${policy.minOtherContributors + 1} (--min-other-contributors ${policy.minOtherContributors}), got ${params.threshold}`,
      );
    }
    try {
      assertVectorTerms(this.terms);
    } catch (err) {
      throw violation(`the round's vector terms are not usable: ${errorMessage(err)}`);
    }
    try {
      this.codec = new FixedPointCodec({ fractionalBits: params.fractionalBits, clip: params.clip, maxSummands: params.numSelected });
    } catch (err) {
      throw violation(`the round's fixed-point terms do not fit the ring: ${errorMessage(err)}`);
    }
  }

  /** The vector terms of SecAggParams (clip, W, the share cap, the metric slots). */
  get terms(): SecAggVectorTerms {
    const { clip, weightBound, weightCap, metricSlots } = this.params;
    return { clip, weightBound, weightCap, metricSlots };
  }

  /** U2 as this client knows it (empty before the ShareDelivery). */
  get sharedKeysWith(): ReadonlySet<string> {
    return this.sharedKeys;
  }

  /**
   * Round 0, AdvertiseKeys (§5, Figure 4): generates c_u and s_u (fresh X25519 pairs for this attempt only) and
   * returns their public halves, raw 32 bytes each. Callable once.
   */
  advertise(): AdvertiseKeys {
    this.expectPhase('created', 'advertise');
    this.encryptionKeys = generateX25519KeyPair();
    this.maskKeys = generateX25519KeyPair();
    this.phase = 'advertised';
    return {
      ...this.step(),
      clientId: this.clientId,
      encryptionPublicKey: this.encryptionKeys.publicKey,
      maskPublicKey: this.maskKeys.publicKey,
    };
  }

  /**
   * Round 1, ShareKeys (§5, Figure 4): checks U1, draws b_u, splits b_u and the raw s_u^SK t-of-|U1| with
   * Shamir's scheme (share i for the i-th member of U1 sorted by compareClientIds), keeps its own pair of
   * shares and encrypts every other member's pair to it (AES-GCM under c_u^SK and c_v^PK).
   * Refuses (FEDTL_ERR_SECAGG_VIOLATION) a directory that does not list this client with exactly the keys it
   * advertised, lists an id twice, has fewer than t or more than numSelected members; FEDTL_ERR_POLICY_REFUSED
   * when U1 holds fewer others than the policy's minOtherContributors.
   */
  async onKeyDirectory(message: KeyDirectory): Promise<ShareKeys> {
    this.expectStep(message, 'KeyDirectory');
    this.expectPhase('advertised', 'KeyDirectory');
    const { threshold, numSelected } = this.params;
    const ids = message.clients.map((c) => c.clientId);
    const twice = repeated(ids);
    if (twice.length > 0) throw violation(`expected each client once in the KeyDirectory, got ${listIds(twice)} more than once`);
    if (ids.length < threshold || ids.length > numSelected) {
      throw violation(`expected a KeyDirectory of ${threshold} (the threshold) to ${numSelected} (the selected) clients, got ${ids.length}`);
    }
    const own = message.clients.find((c) => c.clientId === this.clientId);
    const keys = this.encryptionKeys as X25519KeyPair;
    const mask = this.maskKeys as X25519KeyPair;
    if (!own || !bytesEqual(own.encryptionPublicKey, keys.publicKey) || !bytesEqual(own.maskPublicKey, mask.publicKey)) {
      throw violation(
        own
          ? `expected the KeyDirectory to list "${this.clientId}" with the keys it advertised, got other keys`
          : `expected the KeyDirectory to list "${this.clientId}", got ${listIds(ids)}`,
      );
    }
    this.assertPolicyContributors(ids.length - 1, 'clients in the KeyDirectory (U1)');
    this.phase = 'sharing';
    const members = [...message.clients].sort((a, b) => compareClientIds(a.clientId, b.clientId));
    this.directory = new Map(members.map((c) => [c.clientId, c]));
    this.selfMaskSeed = generateMaskSeed();
    const rawMaskKey = exportX25519PrivateKey(mask.privateKey);
    let selfShares: Uint8Array[];
    let keyShares: Uint8Array[];
    try {
      selfShares = await shareSecret(this.selfMaskSeed, members.length, threshold);
      keyShares = await shareSecret(rawMaskKey, members.length, threshold);
    } catch (err) {
      this.phase = 'advertised';
      throw err;
    } finally {
      rawMaskKey.fill(0);
    }
    const recipients = members.flatMap((member, i) => {
      const pair = { selfMaskShare: selfShares[i], secretKeyShare: keyShares[i] };
      if (member.clientId === this.clientId) {
        this.ownShares = pair;
        return [];
      }
      return [{ id: member.clientId, encryptionPublicKey: member.encryptionPublicKey, ...pair }];
    });
    const shares = encryptShares({ context: this.context, senderId: this.clientId, senderEncryptionKey: keys.privateKey, recipients });
    for (const r of recipients) {
      r.selfMaskShare.fill(0);
      r.secretKeyShare.fill(0);
    }
    this.phase = 'shared';
    return { ...this.step(), clientId: this.clientId, shares };
  }

  /**
   * Round 2 input (§5, Figure 4, "MaskedInputCollection"): keeps e_{v,u} from every sender v; U2 = the senders
   * and this client; derives s_{u,v} = KA.agree(s_u^SK, s_v^PK) for every v ∈ U2 \ {u}. Refuses
   * (FEDTL_ERR_SECAGG_VIOLATION) a share addressed to another client, a sender outside U1 or the client itself,
   * a sender twice, and |U2| < t; FEDTL_ERR_POLICY_REFUSED when U2 holds fewer others than minOtherContributors.
   */
  onShareDelivery(message: ShareDelivery): void {
    this.expectStep(message, 'ShareDelivery');
    this.expectPhase('shared', 'ShareDelivery');
    const senders = message.shares.map((s) => s.senderId);
    const misaddressed = message.shares.filter((s) => s.recipientId !== this.clientId).map((s) => `${s.senderId}→${s.recipientId}`);
    if (misaddressed.length > 0) throw violation(`expected every delivered share addressed to "${this.clientId}", got ${listIds(misaddressed)}`);
    const outside = senders.filter((id) => id === this.clientId || !this.directory.has(id));
    if (outside.length > 0) throw violation(`expected shares from other members of U1 only, got some from ${listIds(outside)}`);
    const twice = repeated(senders);
    if (twice.length > 0) throw violation(`expected one share from each sender, got ${listIds(twice)} more than once`);
    if (senders.length + 1 < this.params.threshold) {
      throw violation(`expected at least ${this.params.threshold} clients (the threshold) in U2, got ${senders.length + 1}`);
    }
    this.assertPolicyContributors(senders.length, 'clients that shared keys (U2)');
    const mask = this.maskKeys as X25519KeyPair;
    const seeds = new Map<string, Uint8Array>();
    for (const v of senders) {
      const peer = this.directory.get(v) as ClientKeys;
      seeds.set(v, derivePairwiseSeed({ ownId: this.clientId, ownPrivateKey: mask.privateKey, peerId: v, peerPublicKey: peer.maskPublicKey }, this.context));
    }
    this.pairwiseSeeds = seeds;
    this.inbox = new Map(message.shares.map((s) => [s.senderId, s]));
    this.sharedKeys = new Set([...senders, this.clientId]);
    this.maskKeys = undefined; // s_u^SK lives on only in the Shamir shares
    this.phase = 'delivered';
  }

  /**
   * Round 2, MaskedInputCollection (§5, Figure 4): x_u = packContribution(update) (the layout of secagg.proto:
   * the delta clipped to L2 ≤ clip and scaled by w_u / W, then w_u / W, then the weighted metric slots), encoded
   * in Z_{2^32} with 2^fractionalBits, then masked with PRG(b_u) and the pairwise masks of U2. Returns y_u
   * (L uint32 words). b_u and the pairwise seeds are zeroed afterwards. Throws packContribution's errors
   * (FEDTL_ERR_NON_FINITE, FEDTL_ERR_BAD_EXAMPLE_COUNT) and FEDTL_ERR_SECAGG_VIOLATION before the delivery.
   */
  maskedInput(update: SecAggContribution): MaskedInput {
    this.expectPhase('delivered', 'masked input');
    const packed = packContribution(update, this.terms);
    const encoded = this.codec.encode(packed.values).values;
    const selfMaskSeed = this.selfMaskSeed as Uint8Array;
    const maskedVector = maskInput({ context: this.context, clientId: this.clientId, encoded, selfMaskSeed, pairwiseSeeds: this.pairwiseSeeds });
    encoded.fill(0);
    packed.values.fill(0);
    selfMaskSeed.fill(0);
    for (const seed of this.pairwiseSeeds.values()) seed.fill(0);
    this.pairwiseSeeds.clear();
    this.selfMaskSeed = undefined;
    this.packing = { norm: packed.norm, weight: packed.weight, ...(packed.clipFactor !== undefined ? { clipFactor: packed.clipFactor } : {}) };
    this.phase = 'masked';
    return { ...this.step(), clientId: this.clientId, maskedVector };
  }

  /**
   * Round 4, Unmasking (§5, Figure 4; the safety rule of §4). Checks the request, then decrypts e_{v,u} with
   * c_v^PK from U1 and reveals the b_v share of every survivor (its own b_u share included) and the s_v^SK share
   * of every dropped client. Refuses with FEDTL_ERR_SECAGG_VIOLATION, revealing nothing, a request that lists a
   * client twice or as both survivor and dropped, lists this client as dropped or not as survivor, lists a
   * client outside U2 or leaves a member of U2 out, has fewer than t survivors, holds a share that does not
   * authenticate (made under another plan, run or round), or differs from a request already answered (the
   * same request again gets the same answer).
   */
  onUnmaskRequest(message: UnmaskRequest): UnmaskShares {
    this.expectStep(message, 'UnmaskRequest');
    this.expectPhase('masked', 'UnmaskRequest');
    const survivors = [...message.survivors].sort(compareClientIds);
    const dropped = [...message.dropped].sort(compareClientIds);
    if (this.answered) {
      if (survivors.join('\n') === this.answered.survivors.join('\n') && dropped.join('\n') === this.answered.dropped.join('\n')) return this.answered.reply;
      throw violation(
        `expected a second UnmaskRequest to repeat the first (survivors ${listIds(this.answered.survivors)}, dropped ${listIds(this.answered.dropped)}), ` +
          `got survivors ${listIds(survivors)}, dropped ${listIds(dropped)}: answering it could reveal both secrets of one client`,
      );
    }
    this.assertSafeRequest(survivors, dropped);
    this.assertFirstUnmaskingOfState(survivors);
    const shares: RevealedShare[] = [];
    const opened: SharePair[] = [];
    try {
      for (const id of survivors) shares.push({ ownerId: id, kind: 'self-mask-seed', share: Uint8Array.from(this.sharesOf(id, opened).selfMaskShare) });
      for (const id of dropped) shares.push({ ownerId: id, kind: 'mask-private-key', share: Uint8Array.from(this.sharesOf(id, opened).secretKeyShare) });
    } catch (err) {
      for (const s of shares) s.share.fill(0);
      throw err;
    } finally {
      for (const pair of opened) {
        pair.selfMaskShare.fill(0);
        pair.secretKeyShare.fill(0);
      }
    }
    const reply: UnmaskShares = { ...this.step(), clientId: this.clientId, shares };
    this.answered = { survivors, dropped, reply };
    if (this.modelState) this.unmaskLedger?.record(this.modelState, survivors);
    this.ownShares?.selfMaskShare.fill(0);
    this.ownShares?.secretKeyShare.fill(0);
    this.ownShares = undefined;
    this.inbox.clear();
    return reply;
  }

  /**
   * A round's inputs do not change between attempts: a second unmasking of the same model state with other
   * survivors would let the coordinator subtract one sum from the other (unmask-ledger.ts). Refused.
   */
  private assertFirstUnmaskingOfState(survivors: string[]): void {
    if (!this.modelState || !this.unmaskLedger) return;
    const before = this.unmaskLedger.survivorsFor(this.modelState);
    if (before && before.join('\n') !== survivors.join('\n')) {
      throw violation(
        `expected round ${this.context.round}'s model to be unmasked again only with the survivors it was unmasked with before (${listIds(before)}), ` +
          `got survivors ${listIds(survivors)}: the difference of the two sums would reveal an update`,
      );
    }
  }

  /** The safety rule of secagg.proto's header, all checked before any share is decrypted. */
  private assertSafeRequest(survivors: string[], dropped: string[]): void {
    const twice = repeated([...survivors, ...dropped]);
    const survivorSet = new Set(survivors);
    const both = twice.filter((id) => survivorSet.has(id) && dropped.includes(id));
    if (both.length > 0) {
      throw violation(`expected no client both survivor and dropped, got ${listIds(both)} in both lists: that would reveal both of its secrets`, { both });
    }
    if (twice.length > 0) throw violation(`expected each client once in the UnmaskRequest, got ${listIds(twice)} more than once`);
    if (!survivorSet.has(this.clientId)) {
      throw violation(`expected "${this.clientId}" among the survivors (its masked input was sent), got survivors ${listIds(survivors)}, dropped ${listIds(dropped)}`);
    }
    const outside = [...survivors, ...dropped].filter((id) => !this.sharedKeys.has(id));
    if (outside.length > 0) throw violation(`expected only members of U2 ${listIds(this.sharedKeys)} in the UnmaskRequest, got ${listIds(outside)}`);
    const missing = [...this.sharedKeys].filter((id) => !survivorSet.has(id) && !dropped.includes(id));
    if (missing.length > 0) throw violation(`expected every member of U2 listed as survivor or dropped, got none for ${listIds(missing)}`);
    if (survivors.length < this.params.threshold) {
      throw violation(`expected at least ${this.params.threshold} survivors (the threshold), got ${survivors.length}`);
    }
  }

  /** This client's pair of shares of `ownerId`'s secrets: its own, or e_{owner,u} decrypted (added to `opened`). */
  private sharesOf(ownerId: string, opened: SharePair[]): SharePair {
    if (ownerId === this.clientId) return this.ownShares as SharePair;
    const share = this.inbox.get(ownerId) as EncryptedSharePair;
    const sender = this.directory.get(ownerId) as ClientKeys;
    try {
      const pair = decryptShare({
        context: this.context,
        recipientId: this.clientId,
        recipientEncryptionKey: (this.encryptionKeys as X25519KeyPair).privateKey as KeyObject,
        senderEncryptionPublicKey: sender.encryptionPublicKey,
        share,
      });
      opened.push(pair);
      return pair;
    } catch (err) {
      throw violation(`the share from "${ownerId}" cannot be opened, nothing is revealed: ${errorMessage(err)}`);
    }
  }

  private assertPolicyContributors(others: number, what: string): void {
    if (others < this.policy.minOtherContributors) {
      throw new FedtlError(
        'FEDTL_ERR_POLICY_REFUSED',
        `expected at least ${this.policy.minOtherContributors} other clients (--min-other-contributors), got ${others} other ${what}`,
      );
    }
  }

  private step(): SecAggStep {
    return { runId: this.context.runId, round: this.context.round, attempt: this.params.attempt };
  }

  /** FEDTL_ERR_WRONG_RUN / FEDTL_ERR_WRONG_ROUND for a message of another run, round or attempt. */
  private expectStep(message: SecAggStep, what: string): void {
    const { runId, round } = this.context;
    if (message.runId !== runId) {
      throw new FedtlError('FEDTL_ERR_WRONG_RUN', `secure aggregation: expected a ${what} of run "${runId}", got one of run "${message.runId}"`);
    }
    if (message.round !== round || message.attempt !== this.params.attempt) {
      throw new FedtlError(
        'FEDTL_ERR_WRONG_ROUND',
        `secure aggregation: expected a ${what} of round ${round} attempt ${this.params.attempt}, got round ${message.round} attempt ${message.attempt}`,
      );
    }
  }

  private expectPhase(expected: Phase, what: string): void {
    if (this.phase !== expected) {
      throw violation(`a ${what} out of order: this client is waiting for ${NEXT_STEP[this.phase]}`, { phase: this.phase });
    }
  }
}
