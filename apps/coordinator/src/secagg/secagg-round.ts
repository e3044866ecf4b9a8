// The coordinator's side of one secure-aggregation round attempt (Bonawitz et al., "Practical Secure Aggregation
// for Privacy-Preserving Machine Learning", CCS 2017, §5 and Figure 4, honest-but-curious form): collect the
// clients' public keys (round 0), relay their encrypted shares (round 1), sum their masked inputs as they arrive
// (round 2, O(model) memory), then ask the survivors for the shares that remove the masks (round 4) and decode
// the sum. The message flow, the cryptography and the safety rule are in proto/fedtl/v1/secagg.proto.
//
// What the coordinator holds here: public keys, ciphertexts it cannot open, masked vectors that are uniform over
// Z_{2^32}, and at the end the self-mask seeds of the survivors and the mask keys of the dropped clients, never
// both for one client (the clients enforce this; this side also never asks for it). Every phase has a deadline;
// a client that disconnects, refuses or misses one is a dropout from then on. Fewer than t clients at any phase
// ends the attempt with FEDTL_ERR_SECAGG_FAILED, and the coordinator retries the round with fresh keys.
import {
  encodeKeyDirectory,
  encodeShareDelivery,
  encodeUnmaskRequest,
  type AdvertiseKeys,
  type EncryptedSharePair,
  type MaskedInput,
  type SecAggParams,
  type ShareKeys,
  type UnmaskShares,
} from '@fedtl/protocol';
import {
  addInPlace,
  compareClientIds,
  derivePairwiseSeed,
  FixedPointCodec,
  importX25519PrivateKey,
  reconstructSecret,
  secAggVectorLength,
  unmaskSum,
  unpackAggregate,
  type SecAggAggregate,
  type SecAggContext,
} from '@fedtl/privacy';
import type { ClientFailure } from '@fedtl/strategies';
import { FedtlError, toFedtlError, type ErrorCode } from '@fedtl/util';

/** The server→client requests of the protocol; the transport sends them and resolves on the client's ack. */
export type SecAggRequestEvent = 'secagg-keys' | 'secagg-share-delivery' | 'secagg-unmask';

export interface SecAggRoundOptions {
  context: SecAggContext;
  params: SecAggParams;
  /** The selected clients (U0). */
  selected: readonly string[];
  /** Floats per tensor, in the plan's tensor order. */
  tensorSizes: readonly number[];
  /** Sends a request to a client; rejects when it is gone or refuses (it is then a dropout). */
  send(clientId: string, event: SecAggRequestEvent, payload: Uint8Array): Promise<void>;
  /** Deadline of the key phases (rounds 0, 1) and of the unmasking (round 4), in ms each. */
  phaseTimeoutMs: number;
  /** Deadline of the masked inputs (round 2), in ms from the start of the attempt: the clients train meanwhile. */
  inputDeadlineMs: number;
  /** The fewest masked inputs the round needs besides t (the run's quorum, --min-clients). */
  minInputs: number;
}

export interface SecAggOutcome {
  /** U3: the clients whose inputs are in the sum (empty when the attempt failed). */
  survivors: string[];
  failures: ClientFailure[];
  /** The decoded weighted mean, or null when the attempt failed. */
  aggregate: SecAggAggregate | null;
  /** Why the attempt failed, when it did. */
  error?: FedtlError;
}

type Phase = 'advertise' | 'shares' | 'inputs' | 'unmask' | 'closed';

/** What the coordinator records per participant. */
interface Participant {
  keys?: AdvertiseKeys;
  shares?: EncryptedSharePair[];
  answeredUnmask?: UnmaskShares;
}

export class SecureAggregationRound {
  private phase: Phase = 'advertise';
  private readonly participants = new Map<string, Participant>();
  private readonly failures = new Map<string, ClientFailure>();
  /** Members of the phase's set that have not answered the current phase yet. */
  private waitingFor = new Set<string>();
  private phaseDone?: () => void;
  private maskedSum?: Uint32Array;
  private readonly inputs = new Set<string>();
  private readonly vectorLength: number;
  private readonly startedAt = Date.now();
  private stopped = false;

  constructor(private readonly options: SecAggRoundOptions) {
    this.vectorLength = secAggVectorLength(options.tensorSizes, options.params.metricSlots);
    for (const id of options.selected) this.participants.set(id, {});
  }

  get round(): number {
    return this.options.context.round;
  }

  get attempt(): number {
    return this.options.params.attempt;
  }

  /** Selected, not failed, and not yet past the last phase it can take part in. */
  isActive(clientId: string): boolean {
    return this.participants.has(clientId) && !this.failures.has(clientId) && this.phase !== 'closed';
  }

  /** Runs the attempt to its end; never rejects (a failure is in the outcome). */
  async run(): Promise<SecAggOutcome> {
    const { params } = this.options;
    try {
      this.beginPhase('advertise', this.options.selected);
      const u1 = await this.endPhase(this.options.phaseTimeoutMs, 'AdvertiseKeys');
      this.requireAtLeast(u1, 'advertised their keys (round 0)');
      // Each phase opens before its request goes out: a fast client's answer may arrive before the sends settle.
      this.beginPhase('shares', u1);
      await this.broadcastKeys(u1);
      const u2 = await this.endPhase(this.options.phaseTimeoutMs, 'ShareKeys');
      this.requireAtLeast(u2, 'shared their secrets (round 1)');
      this.maskedSum = new Uint32Array(this.vectorLength);
      this.beginPhase('inputs', u2);
      await this.deliverShares(u2);
      const remaining = Math.max(0, this.options.inputDeadlineMs - (Date.now() - this.startedAt));
      const u3 = await this.endPhase(remaining, 'MaskedInput');
      this.requireAtLeast(u3, 'sent their masked input (round 2)', Math.max(params.threshold, this.options.minInputs));
      this.beginPhase('unmask', u3);
      await this.requestUnmasking(u3, u2);
      const responders = await this.endPhase(this.options.phaseTimeoutMs, 'UnmaskShares');
      this.requireAtLeast(responders, 'sent their shares for unmasking (round 4)');
      const aggregate = await this.unmask(u3, u2, responders);
      return { survivors: u3, failures: [...this.failures.values()], aggregate };
    } catch (err) {
      const error = toFedtlError(err);
      return { survivors: [], failures: [...this.failures.values()], aggregate: null, error };
    } finally {
      this.phase = 'closed';
      this.maskedSum = undefined;
    }
  }

  /** Ends the attempt at once (the coordinator is stopping): the current phase closes without its stragglers. */
  stop(): void {
    this.stopped = true;
    this.phaseDone?.();
  }

  /** A dropout: disconnected, reported that it cannot train, or refused a request. */
  fail(clientId: string, code: ErrorCode, message: string): void {
    if (!this.participants.has(clientId) || this.failures.has(clientId) || this.phase === 'closed') return;
    this.failures.set(clientId, { clientId, code, message });
    this.answered(clientId);
  }

  /** Round 0: a client's public keys. Throws a FedtlError for the sender's ack. */
  handleAdvertise(senderId: string, message: AdvertiseKeys): void {
    this.checkStep(senderId, message, 'advertise', 'AdvertiseKeys');
    this.participant(senderId).keys = message;
    this.answered(senderId);
  }

  /** Round 1: a client's encrypted shares, one for every other member of U1. */
  handleShares(senderId: string, message: ShareKeys): void {
    this.checkStep(senderId, message, 'shares', 'ShareKeys');
    this.refusing(senderId, () => {
      const expected = [...this.waitingForAll].filter((id) => id !== senderId);
      const recipients = new Set<string>();
      for (const share of message.shares) {
        if (share.senderId !== senderId) throw this.violation(`expected shares sent by "${senderId}", got one naming sender "${share.senderId}"`);
        if (recipients.has(share.recipientId)) throw this.violation(`expected one share for each client, got two for "${share.recipientId}"`);
        recipients.add(share.recipientId);
      }
      const missing = expected.filter((id) => !recipients.has(id));
      const extra = [...recipients].filter((id) => !this.u1.has(id) || id === senderId);
      if (missing.length > 0 || extra.length > 0) {
        throw this.violation(`expected a share for each of the ${expected.length} other clients of U1, got ${missing.length} missing (${missing.slice(0, 5).join(', ')}) and ${extra.length} unknown (${extra.slice(0, 5).join(', ')})`);
      }
    });
    this.participant(senderId).shares = message.shares;
    this.answered(senderId);
  }

  /** Round 2: a client's masked input, added to the running sum at once. */
  handleMaskedInput(senderId: string, message: MaskedInput): void {
    this.checkStep(senderId, message, 'inputs', 'MaskedInput');
    this.refusing(senderId, () => {
      if (message.maskedVector.length !== this.vectorLength) {
        throw new FedtlError('FEDTL_ERR_BAD_TENSOR_SHAPE', `expected a masked vector of ${this.vectorLength} words (the model's floats + 1 + ${this.options.params.metricSlots.length} metric slots), got ${message.maskedVector.length}`);
      }
    });
    addInPlace(this.maskedSum as Uint32Array, message.maskedVector);
    this.inputs.add(senderId);
    this.answered(senderId);
  }

  /** Round 4: a survivor's shares of the survivors' self-mask seeds and of the dropped clients' mask keys. */
  handleUnmaskShares(senderId: string, message: UnmaskShares): void {
    this.checkStep(senderId, message, 'unmask', 'UnmaskShares');
    this.refusing(senderId, () => {
      const needed = new Map<string, 'self-mask-seed' | 'mask-private-key'>();
      for (const id of this.unmaskSurvivors) needed.set(id, 'self-mask-seed');
      for (const id of this.unmaskDropped) needed.set(id, 'mask-private-key');
      const seen = new Set<string>();
      for (const share of message.shares) {
        const kind = needed.get(share.ownerId);
        if (!kind) throw this.violation(`expected shares of U2's clients only, got one of "${share.ownerId}"`);
        if (kind !== share.kind) throw this.violation(`expected a ${kind} share of "${share.ownerId}", got a ${share.kind} share`);
        if (seen.has(share.ownerId)) throw this.violation(`expected one share of "${share.ownerId}", got two`);
        seen.add(share.ownerId);
      }
      if (seen.size !== needed.size) throw this.violation(`expected ${needed.size} shares (one per client of U2), got ${seen.size}`);
    });
    this.participant(senderId).answeredUnmask = message;
    this.answered(senderId);
  }

  // ---- phases --------------------------------------------------------------------------------------------------

  private u1 = new Set<string>();
  private phaseMembers: string[] = [];
  private waitingForAll = new Set<string>();
  private unmaskSurvivors: string[] = [];
  private unmaskDropped: string[] = [];

  /** Opens `phase` for `members`: from now on their answers count. */
  private beginPhase(phase: Phase, members: readonly string[]): void {
    if (this.stopped) throw new FedtlError('FEDTL_ERR_INTERNAL', 'the coordinator is shutting down');
    this.phase = phase;
    this.phaseMembers = [...members];
    this.waitingForAll = new Set(members);
    this.waitingFor = new Set(members.filter((id) => !this.failures.has(id)));
  }

  /** Waits until every live member of the phase answered or the deadline; returns who answered, sorted. */
  private endPhase(timeoutMs: number, what: string): Promise<string[]> {
    const phase = this.phase;
    const members = this.phaseMembers;
    return new Promise<string[]>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.phaseDone = undefined;
        for (const id of [...this.waitingFor]) {
          this.fail(id, 'FEDTL_ERR_ROUND_TIMEOUT', `no ${what} from "${id}" before the deadline of round ${this.round}'s secure-aggregation phase "${phase}" (${timeoutMs} ms)`);
        }
        resolve(members.filter((id) => !this.failures.has(id)).sort(compareClientIds));
      };
      const timer = setTimeout(finish, timeoutMs);
      timer.unref?.();
      this.phaseDone = finish;
      if (this.waitingFor.size === 0 || this.stopped) finish();
    }).then((ids) => {
      if (this.stopped) throw new FedtlError('FEDTL_ERR_INTERNAL', 'the coordinator is shutting down');
      return ids;
    });
  }

  private answered(clientId: string): void {
    if (!this.waitingFor.delete(clientId)) return;
    if (this.waitingFor.size === 0) this.phaseDone?.();
  }

  private requireAtLeast(members: readonly string[], what: string, least = this.options.params.threshold): void {
    if (members.length >= least) return;
    throw new FedtlError(
      'FEDTL_ERR_SECAGG_FAILED',
      `round ${this.round} attempt ${this.attempt}: expected at least ${least} clients (threshold t = ${this.options.params.threshold}, quorum ${this.options.minInputs}) that ${what}, got ${members.length}`,
    );
  }

  private async broadcastKeys(u1: readonly string[]): Promise<void> {
    this.u1 = new Set(u1);
    const clients = u1.map((id) => {
      const keys = this.participant(id).keys as AdvertiseKeys;
      return { clientId: id, encryptionPublicKey: keys.encryptionPublicKey, maskPublicKey: keys.maskPublicKey };
    });
    const payload = encodeKeyDirectory({ ...this.step(), clients });
    await this.sendAll(u1, 'secagg-keys', () => payload);
  }

  private async deliverShares(u2: readonly string[]): Promise<void> {
    const inbox = new Map<string, EncryptedSharePair[]>(u2.map((id) => [id, []]));
    for (const sender of u2) {
      for (const share of this.participant(sender).shares ?? []) inbox.get(share.recipientId)?.push(share);
    }
    await this.sendAll(u2, 'secagg-share-delivery', (id) => encodeShareDelivery({ ...this.step(), shares: inbox.get(id) ?? [] }));
  }

  private async requestUnmasking(u3: readonly string[], u2: readonly string[]): Promise<void> {
    this.unmaskSurvivors = [...u3];
    this.unmaskDropped = u2.filter((id) => !u3.includes(id));
    const payload = encodeUnmaskRequest({ ...this.step(), survivors: this.unmaskSurvivors, dropped: this.unmaskDropped });
    await this.sendAll(u3, 'secagg-unmask', () => payload);
  }

  /** Sends to every member in parallel; a member whose send fails is a dropout (its reply never counts). */
  private async sendAll(members: readonly string[], event: SecAggRequestEvent, payloadFor: (id: string) => Uint8Array): Promise<void> {
    await Promise.all(
      members.map((id) =>
        this.options.send(id, event, payloadFor(id)).catch((err) => {
          const error = toFedtlError(err);
          this.fail(id, error.code, `could not deliver '${event}' to "${id}": ${error.message}`);
        }),
      ),
    );
  }

  /** Round 4's server side: rebuild the secrets from t shares each, strip the masks, decode and unpack. */
  private async unmask(u3: readonly string[], u2: readonly string[], responders: readonly string[]): Promise<SecAggAggregate> {
    const { context, params } = this.options;
    const t = params.threshold;
    const sharesOf = (ownerId: string) =>
      responders.map((r) => (this.participant(r).answeredUnmask as UnmaskShares).shares.find((s) => s.ownerId === ownerId)?.share as Uint8Array);
    const selfMaskSeeds = new Map<string, Uint8Array>();
    for (const id of u3) selfMaskSeeds.set(id, await reconstructSecret(sharesOf(id), t));
    const droppedPairwiseSeeds = new Map<string, Map<string, Uint8Array>>();
    for (const dropped of u2.filter((id) => !u3.includes(id))) {
      const privateKey = importX25519PrivateKey(await reconstructSecret(sharesOf(dropped), t));
      const seeds = new Map<string, Uint8Array>();
      for (const survivor of u3) {
        const peerPublicKey = (this.participant(survivor).keys as AdvertiseKeys).maskPublicKey;
        seeds.set(survivor, derivePairwiseSeed({ ownId: dropped, ownPrivateKey: privateKey, peerId: survivor, peerPublicKey }, context));
      }
      droppedPairwiseSeeds.set(dropped, seeds);
    }
    const sum = unmaskSum({ context, maskedSum: this.maskedSum as Uint32Array, survivors: u3, selfMaskSeeds, droppedPairwiseSeeds });
    for (const seed of selfMaskSeeds.values()) seed.fill(0);
    const codec = new FixedPointCodec({ fractionalBits: params.fractionalBits, clip: params.clip, maxSummands: params.numSelected });
    return unpackAggregate(codec.decodeSum(sum, u3.length), this.options.tensorSizes, params);
  }

  // ---- checks --------------------------------------------------------------------------------------------------

  private step(): { runId: string; round: number; attempt: number } {
    return { runId: this.options.context.runId, round: this.round, attempt: this.attempt };
  }

  private participant(id: string): Participant {
    return this.participants.get(id) as Participant;
  }

  /** The common checks of a client's message: run, round, attempt, sender, phase, a first answer. */
  private checkStep(senderId: string, message: { runId: string; round: number; attempt: number; clientId: string }, phase: Phase, what: string): void {
    if (message.runId !== this.options.context.runId) throw new FedtlError('FEDTL_ERR_WRONG_RUN', `expected a ${what} for run ${this.options.context.runId}, got run ${message.runId}`);
    if (message.round !== this.round || message.attempt !== this.attempt) {
      throw new FedtlError('FEDTL_ERR_WRONG_ROUND', `expected a ${what} for round ${this.round} attempt ${this.attempt}, got round ${message.round} attempt ${message.attempt}`);
    }
    if (message.clientId !== senderId) throw new FedtlError('FEDTL_ERR_UNAUTHORIZED', `${what} claims client "${message.clientId}" but was sent by "${senderId}"`);
    if (!this.participants.has(senderId)) throw new FedtlError('FEDTL_ERR_NOT_SELECTED', `client "${senderId}" was not selected for round ${this.round}`);
    const failure = this.failures.get(senderId);
    if (failure) throw new FedtlError('FEDTL_ERR_WRONG_ROUND', `expected no ${what} from "${senderId}": it is out of round ${this.round} attempt ${this.attempt} (${failure.code})`);
    if (this.phase !== phase) throw this.violation(`expected a ${what} during the "${phase}" phase, got one during "${this.phase}"`);
    if (!this.waitingFor.has(senderId)) {
      throw new FedtlError('FEDTL_ERR_DUPLICATE_UPDATE', `expected one ${what} from "${senderId}" in round ${this.round} attempt ${this.attempt}, got another (or it is not in this phase's set)`);
    }
  }

  /** Runs a content check; a refused answer leaves its sender out of the attempt (it could not count anyway). */
  private refusing<T>(senderId: string, check: () => T): T {
    try {
      return check();
    } catch (err) {
      const error = toFedtlError(err);
      this.fail(senderId, error.code, error.message);
      throw error;
    }
  }

  private violation(message: string): FedtlError {
    return new FedtlError('FEDTL_ERR_SECAGG_VIOLATION', message);
  }
}
