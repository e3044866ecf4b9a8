// An honest coordinator's side of one secure-aggregation round attempt, in process and without a network, for
// tests of the client's SecAggParticipant (and of anything that speaks secagg.proto): it collects the
// AdvertiseKeys into the KeyDirectory (U1), routes the ShareKeys (U2), sums the MaskedInputs (U3), asks for the
// unmasking, and rebuilds the sum from the UnmaskShares (Bonawitz et al., CCS 2017, §5, the server's side of
// rounds 0–4). Every step refuses input the honest server would refuse, with an Error naming it.
import {
  addInPlace,
  compareClientIds,
  derivePairwiseSeed,
  FixedPointCodec,
  importX25519PrivateKey,
  reconstructSecret,
  unmaskSum,
  unpackAggregate,
  type SecAggAggregate,
  type SecAggContext,
} from '@fedtl/privacy';
import type { SecAggParams } from '../domain';
import type {
  AdvertiseKeys,
  ClientKeys,
  KeyDirectory,
  MaskedInput,
  SecAggStep,
  ShareDelivery,
  ShareKeys,
  UnmaskRequest,
  UnmaskShares,
} from '../secagg-domain';

export interface SecAggRelayOptions {
  /** The coordinator's own context: its session is the hash of the plan it means to have sent. */
  readonly context: SecAggContext;
  readonly params: SecAggParams;
  /** Float counts of the plan's tensors, in plan order. */
  readonly sizes: readonly number[];
}

/** What the relay learns at the end: the unmasked sum, in the ring and decoded. */
export interface RelayResult {
  /** Σ_{u ∈ U3} x_u in Z_{2^32}, unmasked. */
  readonly ringSum: Uint32Array;
  /** The same, decoded with the round's fixed point (|U3| summands). */
  readonly sum: Float64Array;
  readonly survivors: readonly string[];
}

export class SecAggRelay {
  private readonly codec: FixedPointCodec;
  private u1 = new Map<string, ClientKeys>();
  private u2: string[] = [];
  private u3: string[] = [];
  private maskedSum?: Uint32Array;

  constructor(private readonly options: SecAggRelayOptions) {
    const { fractionalBits, clip, numSelected } = options.params;
    this.codec = new FixedPointCodec({ fractionalBits, clip, maxSummands: numSelected });
  }

  private get step(): SecAggStep {
    return { runId: this.options.context.runId, round: this.options.context.round, attempt: this.options.params.attempt };
  }

  /** Round 0 → 1: U1 = the advertisers; throws below the threshold. */
  keyDirectory(advertisements: readonly AdvertiseKeys[]): KeyDirectory {
    this.assertQuorum(advertisements.length, 'advertised keys');
    this.u1 = new Map(advertisements.map((a) => [a.clientId, { clientId: a.clientId, encryptionPublicKey: a.encryptionPublicKey, maskPublicKey: a.maskPublicKey }]));
    return { ...this.step, clients: [...this.u1.values()] };
  }

  /** Round 1 → 2: U2 = the senders; each member of U2 gets the shares addressed to it by the others of U2. */
  deliverShares(shareKeys: readonly ShareKeys[]): Map<string, ShareDelivery> {
    this.assertQuorum(shareKeys.length, 'shared keys');
    this.u2 = shareKeys.map((s) => s.clientId).sort(compareClientIds);
    const deliveries = new Map<string, ShareDelivery>(this.u2.map((id) => [id, { ...this.step, shares: [] }]));
    for (const sent of shareKeys) {
      for (const share of sent.shares) deliveries.get(share.recipientId)?.shares.push(share);
    }
    return deliveries;
  }

  /** Round 2 → 4: U3 = the clients whose y_u arrived; the UnmaskRequest lists U3 and U2 \ U3. */
  unmaskRequest(inputs: readonly MaskedInput[]): UnmaskRequest {
    this.assertQuorum(inputs.length, 'sent masked inputs');
    this.u3 = inputs.map((i) => i.clientId).sort(compareClientIds);
    this.maskedSum = new Uint32Array(inputs[0].maskedVector.length);
    for (const input of inputs) addInPlace(this.maskedSum, input.maskedVector);
    const survivors = new Set(this.u3);
    return { ...this.step, survivors: [...this.u3], dropped: this.u2.filter((id) => !survivors.has(id)) };
  }

  /**
   * Round 4: rebuilds b_v of every survivor and s_v^SK of every dropped client from the responders' shares
   * (reconstructSecret refuses fewer than t), recomputes the dropped clients' pairwise seeds with every
   * survivor, removes the masks (unmaskSum) and decodes the sum (read it with `aggregate`).
   */
  async finish(responses: readonly UnmaskShares[]): Promise<RelayResult> {
    const { context, params } = this.options;
    const maskedSum = this.maskedSum;
    if (!maskedSum) throw new Error('SecAggRelay: finish before unmaskRequest');
    const sharesOf = (ownerId: string, kind: 'self-mask-seed' | 'mask-private-key'): Uint8Array[] =>
      responses.flatMap((r) => r.shares.filter((s) => s.ownerId === ownerId && s.kind === kind).map((s) => s.share));
    const selfMaskSeeds = new Map<string, Uint8Array>();
    for (const u of this.u3) selfMaskSeeds.set(u, await reconstructSecret(sharesOf(u, 'self-mask-seed'), params.threshold));
    const survivors = new Set(this.u3);
    const droppedPairwiseSeeds = new Map<string, Map<string, Uint8Array>>();
    for (const v of this.u2.filter((id) => !survivors.has(id))) {
      const ownPrivateKey = importX25519PrivateKey(await reconstructSecret(sharesOf(v, 'mask-private-key'), params.threshold));
      const seeds = new Map<string, Uint8Array>();
      for (const u of this.u3) {
        const peer = this.u1.get(u) as ClientKeys;
        seeds.set(u, derivePairwiseSeed({ ownId: v, ownPrivateKey, peerId: u, peerPublicKey: peer.maskPublicKey }, context));
      }
      droppedPairwiseSeeds.set(v, seeds);
    }
    const ringSum = unmaskSum({ context, maskedSum, survivors: this.u3, selfMaskSeeds, droppedPairwiseSeeds });
    const sum = this.codec.decodeSum(ringSum, this.u3.length);
    return { ringSum, sum, survivors: [...this.u3] };
  }

  /** The weighted means read from a decoded sum (unpackAggregate; throws when its weight part is not positive). */
  aggregate(sum: Float64Array): SecAggAggregate {
    const { clip, weightBound, weightCap, metricSlots } = this.options.params;
    return unpackAggregate(sum, this.options.sizes, { clip, weightBound, weightCap, metricSlots });
  }

  private assertQuorum(count: number, what: string): void {
    if (count < this.options.params.threshold) {
      throw new Error(`SecAggRelay: expected at least ${this.options.params.threshold} clients (the threshold) that ${what}, got ${count}`);
    }
  }
}
