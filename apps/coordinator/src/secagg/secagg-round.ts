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
import { diffieHellman } from 'node:crypto';
import {
  addInPlace,
  compareClientIds,
  generateX25519KeyPair,
  importX25519PublicKey,
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
  /** Each selected client's training example count as declared at Join: the weight its input must carry. */
  declaredExamples: ReadonlyMap<string, number>;
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
  /**
   * Members whose answer to the current phase was accepted. A member that fails afterwards stays in: its answer
   * counts (a masked input already in the sum must be unmasked with its self mask, even if its sender is gone).
   */
  private answeredPhase = new Set<string>();
  private phaseDone?: () => void;
  private maskedSum?: Uint32Array;
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

  /** Runs the attempt to its end; never rejects (a failure is in the outcome). */
  async run(): Promise<SecAggOutcome> {
    const { params } = this.options;
    try {
      this.beginPhase('advertise', this.options.selected);
      const u1 = await this.endPhase(this.options.phaseTimeoutMs, 'AdvertiseKeys');
      this.requireAtLeast(u1, 'advertised their keys (round 0)');
      // Each phase opens before its request goes out: a fast client's answer may arrive before the sends settle.
      this.beginPhase('shares', u1);
      this.broadcastKeys(u1);
      const u2 = await this.endPhase(this.options.phaseTimeoutMs, 'ShareKeys');
      this.requireAtLeast(u2, 'shared their secrets (round 1)');
      this.maskedSum = new Uint32Array(this.vectorLength);
      this.beginPhase('inputs', u2);
      this.deliverShares(u2);
      const remaining = Math.max(0, this.options.inputDeadlineMs - (Date.now() - this.startedAt));
      const u3 = await this.endPhase(remaining, 'MaskedInput');
      this.requireAtLeast(u3, 'sent their masked input (round 2)', Math.max(params.threshold, this.options.minInputs));
      this.beginPhase('unmask', u3);
      this.requestUnmasking(u3, u2);
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
    this.refusing(senderId, () => this.checkKeys(senderId, message));
    this.participant(senderId).keys = message;
    this.answeredPhase.add(senderId);
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
    this.answeredPhase.add(senderId);
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
    this.answeredPhase.add(senderId);
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
    this.answeredPhase.add(senderId);
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
    this.answeredPhase = new Set();
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
        resolve(members.filter((id) => this.answeredPhase.has(id)).sort(compareClientIds));
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

  private broadcastKeys(u1: readonly string[]): void {
    this.u1 = new Set(u1);
    const clients = u1.map((id) => {
      const keys = this.participant(id).keys as AdvertiseKeys;
      return { clientId: id, encryptionPublicKey: keys.encryptionPublicKey, maskPublicKey: keys.maskPublicKey };
    });
    const payload = encodeKeyDirectory({ ...this.step(), clients });
    this.sendAll(u1, 'secagg-keys', () => payload);
  }

  private deliverShares(u2: readonly string[]): void {
    const inbox = new Map<string, EncryptedSharePair[]>(u2.map((id) => [id, []]));
    for (const sender of u2) {
      for (const share of this.participant(sender).shares ?? []) inbox.get(share.recipientId)?.push(share);
    }
    this.sendAll(u2, 'secagg-share-delivery', (id) => encodeShareDelivery({ ...this.step(), shares: inbox.get(id) ?? [] }));
  }

  private requestUnmasking(u3: readonly string[], u2: readonly string[]): void {
    this.unmaskSurvivors = [...u3];
    this.unmaskDropped = u2.filter((id) => !u3.includes(id));
    const payload = encodeUnmaskRequest({ ...this.step(), survivors: this.unmaskSurvivors, dropped: this.unmaskDropped });
    this.sendAll(u3, 'secagg-unmask', () => payload);
  }

  /**
   * Sends to every member in parallel without waiting: the phase is open already and ends on the answers, so a
   * member that disconnects before acknowledging (a dropout at once, through fail) never holds it up for the
   * acknowledgement timeout. A member whose send fails is a dropout; its reply never counts.
   */
  private sendAll(members: readonly string[], event: SecAggRequestEvent, payloadFor: (id: string) => Uint8Array): void {
    for (const id of members) {
      this.options.send(id, event, payloadFor(id)).catch((err) => {
        const error = toFedtlError(err);
        this.fail(id, error.code, `could not deliver '${event}' to "${id}": ${error.message}`);
      });
    }
  }

  /** Round 4's server side: rebuild the secrets, strip the masks, decode, and check that the result is plausible. */
  private async unmask(u3: readonly string[], u2: readonly string[], responders: readonly string[]): Promise<SecAggAggregate> {
    const { context, params } = this.options;
    const selfMaskSeeds = new Map<string, Uint8Array>();
    for (const id of u3) selfMaskSeeds.set(id, await this.rebuild(id, responders));
    const droppedPairwiseSeeds = new Map<string, Map<string, Uint8Array>>();
    for (const dropped of u2.filter((id) => !u3.includes(id))) {
      const privateKey = importX25519PrivateKey(await this.rebuild(dropped, responders));
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
    const decoded = codec.decodeSum(sum, u3.length);
    this.checkPlausible(decoded, u3, codec.step);
    return unpackAggregate(decoded, this.options.tensorSizes, params);
  }

  /**
   * One client's secret from the responders' shares of it. With more than t shares, two different t-subsets are
   * combined and must agree: Shamir's combine cannot tell a wrong share from a right one, but two subsets that
   * differ in a wrong share give different secrets (FEDTL_ERR_SECAGG_VIOLATION, the attempt is discarded).
   */
  private async rebuild(ownerId: string, responders: readonly string[]): Promise<Uint8Array> {
    const t = this.options.params.threshold;
    const shares = responders.map((r) => (this.participant(r).answeredUnmask as UnmaskShares).shares.find((s) => s.ownerId === ownerId)?.share as Uint8Array);
    const secret = await reconstructSecret(shares.slice(0, t), t);
    if (shares.length > t) {
      const check = await reconstructSecret(shares.slice(shares.length - t), t);
      const agree = Buffer.from(secret).equals(Buffer.from(check));
      check.fill(0);
      if (!agree) {
        secret.fill(0);
        throw this.violation(`expected the ${shares.length} shares of "${ownerId}"'s secret to agree, got two subsets of ${t} that rebuild different secrets (a client revealed a wrong share); the attempt is discarded`);
      }
    }
    return secret;
  }

  /**
   * The decoded sum must be one honest inputs could give (secagg.proto's vector layout): the weight part equals
   * Σ min(declared examples, cap) / W over the survivors, every entry is within |U3| · clip, the mean delta's L2
   * norm is within clip (each input was clipped to it), and the mean loss and accuracy are in range. A wrong
   * share or a vector outside the protocol gives noise, which fails these (FEDTL_ERR_SECAGG_VIOLATION); a
   * crafted in-range vector from a malicious client does not, which secure aggregation cannot check.
   */
  private checkPlausible(decoded: Float64Array, u3: readonly string[], step: number): void {
    const { params, declaredExamples, tensorSizes } = this.options;
    const n = u3.length;
    const tolerance = n * step;
    const weightIndex = decoded.length - 1 - params.metricSlots.length;
    const expectedShares = u3.reduce((sum, id) => sum + Math.min(declaredExamples.get(id) ?? 0, params.weightCap) / params.weightBound, 0);
    const fail = (what: string) => {
      throw this.violation(`expected an unmasked sum that ${n} honest inputs could give, got one whose ${what} (a wrong share or an input outside the protocol); the attempt is discarded`);
    };
    const shares = decoded[weightIndex];
    if (Math.abs(shares - expectedShares) > tolerance) fail(`weight part is ${shares}, not the survivors' ${expectedShares}`);
    const bound = n * params.clip + tolerance;
    const outside = decoded.findIndex((value) => Math.abs(value) > bound);
    if (outside >= 0) fail(`entry ${outside} is ${decoded[outside]}, beyond ${n} × clip ${params.clip}`);
    const floats = tensorSizes.reduce((a, b) => a + b, 0);
    let squares = 0;
    for (let i = 0; i < floats; i++) squares += (decoded[i] / shares) ** 2;
    const normSlack = (Math.sqrt(floats) * tolerance) / shares;
    if (Math.sqrt(squares) > params.clip * (1 + 1e-9) + normSlack) fail(`mean delta has L2 norm ${Math.sqrt(squares)}, beyond the clip ${params.clip}`);
    params.metricSlots.forEach((name, k) => {
      const mean = decoded[weightIndex + 1 + k] / shares;
      const slack = tolerance / shares;
      const [low, high] = name === 'accuracy' ? [0, 1] : name === 'loss' ? [0, params.clip] : [-params.clip, params.clip];
      if (mean < low - slack || mean > high + slack) fail(`mean ${name} is ${mean}, outside [${low}, ${high}]`);
    });
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

  /**
   * Both advertised keys must be usable X25519 public keys that no other client advertised: a low-order point
   * (an all-zero shared secret, which node:crypto refuses) or a copied key would make every honest peer's key
   * agreement with this client fail, and the whole attempt with it. Refused here, only the sender is out.
   */
  private checkKeys(senderId: string, message: AdvertiseKeys): void {
    const probe = generateX25519KeyPair();
    for (const [name, key] of [['encryption', message.encryptionPublicKey], ['mask', message.maskPublicKey]] as const) {
      try {
        diffieHellman({ privateKey: probe.privateKey, publicKey: importX25519PublicKey(key) }).fill(0);
      } catch (err) {
        throw this.violation(`expected a usable X25519 ${name} public key from "${senderId}", got one key agreement refuses (${toFedtlError(err).message})`);
      }
    }
    if (Buffer.from(message.encryptionPublicKey).equals(Buffer.from(message.maskPublicKey))) {
      throw this.violation(`expected two different public keys from "${senderId}" (encryption and mask), got the same key twice`);
    }
    for (const [id, other] of this.participants) {
      const keys = other.keys;
      if (id === senderId || !keys) continue;
      const mine = [message.encryptionPublicKey, message.maskPublicKey].map((k) => Buffer.from(k));
      if (mine.some((k) => k.equals(Buffer.from(keys.encryptionPublicKey)) || k.equals(Buffer.from(keys.maskPublicKey)))) {
        throw this.violation(`expected fresh public keys from "${senderId}", got a key "${id}" already advertised`);
      }
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
