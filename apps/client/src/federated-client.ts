// The client's side of the protocol: connect, join, train on each round plan, report, evaluate on request.
// Socket.IO reconnects with exponential backoff and jitter; every (re)connection joins again under the same
// client id, and the coordinator hands a rejoining client the round in progress.
//
// Every session ends in exactly one of three events: 'finished' with the coordinator's verdict (a RunEnd),
// 'refused' (the coordinator will not have this client), or 'failed' (this client cannot go on: a local
// failure, a misconfiguration retrying cannot fix, or a coordinator unreachable for longer than giveUpAfterMs).
import { EventEmitter } from 'node:events';
import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  SECAGG_FEATURE,
  FEDPROX_FEATURE,
  PER_FEDAVG_FEATURE,
  LORA_FEATURE,
  DP_SGD_FEATURE,
  DP_FEDAVG_FEATURE,
  UnmaskLedger,
  decodeAck,
  decodeEvaluateRequest,
  decodeError,
  decodeJoinReply,
  decodeKeyDirectory,
  decodeRoundPlan,
  decodeRunEnd,
  decodeShareDelivery,
  decodeUnmaskRequest,
  emitWithAck,
  encodeAck,
  encodeAdvertiseKeys,
  encodeError,
  encodeEvaluateReport,
  encodeJoin,
  encodeMaskedInput,
  encodeShareKeys,
  encodeUnmaskShares,
  encodeUpdate,
  formatUpdateCompression,
  type ClientRequestEvent,
  type ClientToServerEvents,
  type MaskedInput,
  type Metrics,
  type ProtocolError,
  type RoundPlan,
  type RunEnd,
  type ServerToClientEvents,
  type TensorSpec,
  type Welcome,
} from '@fedtl/protocol';
import { PERMISSIVE_POLICY, describePolicy, policyRequiresSecureAggregation, policyViolation, type PrivacyPolicy } from '@fedtl/privacy';
import type { BackendName } from '@fedtl/model';
import { FedtlError, createLogger, deriveSeed, isErrorCode, redactUrl, toFedtlError, type Logger } from '@fedtl/util';
import { giveUpMessage } from './give-up';
import { RETRYABLE_REFUSAL_CODES, describeRefusal, handshakeRefusalOf, type HandshakeRefusal } from './handshake-refusal';
import { ErrorFeedback } from './error-feedback';
import { LearnerThread } from './learner-thread';
import { trainingProgress } from './training-progress';
import type { LocalUpdate } from './learner';
import type { LocalData } from './local-data';
import { DEFAULT_GIVE_UP_AFTER_MS } from './client-options';
import type { ClientPrivacyLedger } from './dp/client-privacy-ledger';
import { SecAggAttempt } from './secagg/secagg-attempt';
import { describeTlsFailure, tlsFailureOf } from './tls-failure';

export interface FederatedClientOptions {
  url: string;
  clientId: string;
  token: string;
  data: LocalData;
  /** The TF.js backend local training must use; default: the best one the training thread can initialise. */
  backend?: BackendName;
  ackTimeoutMs: number;
  localBaselineEpochs: number;
  personalizeEpochs?: number;
  seed: number;
  /** TLS settings passed to the underlying connection (CA for self-signed servers, client cert for mTLS). */
  tls?: { ca?: string; cert?: string; key?: string };
  /** Reconnection backoff bounds (Socket.IO adds ±50% jitter). */
  reconnectDelayMs?: number;
  reconnectDelayMaxMs?: number;
  /**
   * How long the client keeps trying to reach the coordinator, in ms, counted from the last time it was
   * joined (or from start): then it fails with FEDTL_ERR_UNREACHABLE. Default DEFAULT_GIVE_UP_AFTER_MS.
   */
  giveUpAfterMs?: number;
  /** What this client accepts from the coordinator, checked on the Welcome and on every plan (default PERMISSIVE_POLICY). */
  privacyPolicy?: PrivacyPolicy;
  /**
   * What DP-SGD has spent on this client's data, and its budget: plans over it are refused with
   * FEDTL_ERR_PRIVACY_BUDGET, and each DP-SGD round is recorded before its update leaves. Default: none (nothing is
   * recorded or refused; plans with DP terms are still trained as they say).
   */
  privacyLedger?: ClientPrivacyLedger;
  /**
   * Rewrites every trained update before it is sent, in the clear or masked. Default: none, the update as
   * trained. Only code sets it, never a flag: benches and tests make a faulty or malicious client of the real
   * one this way (apps/client/src/testing/sign-flip-main.ts). Evaluation is untouched.
   */
  tamperUpdate?: (update: LocalUpdate) => LocalUpdate;
}

export interface FederatedClientEvents {
  welcome: [welcome: Welcome];
  trained: [round: number];
  evaluated: [round: number];
  /** The coordinator's verdict: the run is over, `finished` or `failed` with its cause. The client stops. */
  finished: [verdict: RunEnd];
  /** The coordinator refused this client for good (bad token, wrong backbone, unknown labels, protocol version…). */
  refused: [error: FedtlError];
  /**
   * This client cannot go on: its training thread cannot start, its data does not fit the run, an update is
   * over the coordinator's size limit, the URL or the TLS trust is wrong (FEDTL_ERR_BAD_CONFIG, FEDTL_ERR_TLS),
   * the coordinator stayed unreachable (FEDTL_ERR_UNREACHABLE) or ended the session without a verdict.
   */
  failed: [error: FedtlError];
}

export class FederatedClient extends EventEmitter<FederatedClientEvents> {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  /** Local training and evaluation, in a worker thread: this thread only speaks the protocol. */
  private readonly learner: LearnerThread;
  /**
   * Resolves once this session's Welcome arrived. Every queued job waits for it: a plan can overtake the join
   * acknowledgement's continuation (both may arrive in one network read), and a job must use the learner of
   * the run it was welcomed into.
   */
  private welcomed!: Promise<void>;
  private markWelcomed!: () => void;
  private welcomedThisSession = true;
  private runId?: string;
  /** The run's model tensors, from the learner at the run's first Welcome. */
  private runTensors?: readonly TensorSpec[];
  /**
   * What plans and evaluation requests are checked against as they are decoded (a hostile header naming a huge
   * sparse tensor is refused before it is expanded): the run's tensors once this session is welcomed; none before,
   * when a plan may belong to a run whose model this client has not seen yet.
   */
  private expectedTensors?: readonly TensorSpec[];
  private stopped = false;
  /** Set once a terminal event was emitted: nothing after it (a late disconnect, a join reply) counts. */
  private ended = false;
  /** The largest message the coordinator accepts (from its Welcome); 0 when it did not say. */
  private maxMessageBytes = 0;
  /** The coordinator's last `fedtl-error`, quoted if it then ends the session without a verdict. */
  private lastCoordinatorError?: ProtocolError;
  private giveUpTimer?: NodeJS.Timeout;
  private lastJoinedAt?: number;
  /** The refusal the last connection attempt met (429, 503), named if the client then gives up. */
  private lastRefusal?: HandshakeRefusal;
  /** Join attempts that were not acknowledged in a row; sets the backoff before the next one. */
  private unacknowledgedJoins = 0;
  private rejoinTimer?: NodeJS.Timeout;
  /** The privacy policy in force (options.privacyPolicy or PERMISSIVE_POLICY). */
  private readonly policy: PrivacyPolicy;
  /** Rounds of the current run in which an update or masked input of this client was accepted (--max-rounds). */
  private roundsJoined = 0;
  /** Plans this client's privacy policy refused, this run (said in the last word on the run). */
  private roundsRefused = 0;
  /** The secure-aggregation round attempt in progress; a new plan replaces it. */
  private secagg?: SecAggAttempt;
  /** What this client helped unmask, per round and model state, across attempts (unmask-ledger.ts in @fedtl/protocol). */
  private readonly unmaskLedger = new UnmaskLedger();
  /**
   * The top-k residual of this run (error-feedback.ts): kept across reconnections to the same run, since it is
   * the part of accepted rounds' deltas not sent yet; reset when the client is welcomed into another run.
   */
  private readonly errorFeedback = new ErrorFeedback();
  /** Local work is done one job at a time, in arrival order. */
  private queue: Promise<void> = Promise.resolve();
  /** Every line carries the clientId, and once welcomed the runId of the run this client is in. */
  private log: Logger;

  constructor(private readonly options: FederatedClientOptions) {
    super();
    this.startSession();
    this.log = createLogger('client').child({ clientId: options.clientId });
    this.policy = options.privacyPolicy ?? PERMISSIVE_POLICY;
    this.learner = new LearnerThread({
      clientId: options.clientId,
      backend: options.backend,
      data: options.data,
      localBaselineEpochs: options.localBaselineEpochs,
      personalizeEpochs: options.personalizeEpochs ?? 0,
      seed: options.seed,
    });
    this.socket = io(options.url, {
      transports: ['websocket'],
      auth: { token: options.token },
      // The coordinator checks the token at the HTTP upgrade, before it accepts a WebSocket.
      extraHeaders: options.token ? { authorization: `Bearer ${options.token}` } : {},
      reconnectionDelay: options.reconnectDelayMs ?? 1000,
      reconnectionDelayMax: options.reconnectDelayMaxMs ?? 30_000,
      randomizationFactor: 0.5,
      autoConnect: false,
      ...options.tls,
    });
    this.socket.on('connect', () => void this.join());
    this.socket.on('connect_error', (err) => this.onConnectError(err));
    this.socket.on('disconnect', (reason) => this.onDisconnect(reason));
    this.socket.on('round-plan', (payload, ack) => this.onRoundPlan(payload, ack));
    this.socket.on('evaluate-request', (payload, ack) => this.onEvaluateRequest(payload, ack));
    this.socket.on('fedtl-error', (payload) => this.onCoordinatorError(payload));
    this.socket.on('run-end', (payload, ack) => this.onRunEnd(payload, ack));
    this.socket.on('secagg-keys', (payload, ack) => this.settled(this.onKeyDirectory(payload, ack), 'secagg-keys'));
    this.socket.on('secagg-share-delivery', (payload, ack) => this.onShareDelivery(payload, ack));
    this.socket.on('secagg-unmask', (payload, ack) => this.onUnmaskRequest(payload, ack));
  }

  /**
   * Starts the training thread, then connects. A thread that cannot start (e.g. the requested backend is
   * missing) is reported as 'failed' and nothing connects.
   */
  start(): void {
    this.learner.ready().then(
      (thread) => {
        if (this.stopped) return;
        this.log.debug('training thread ready', { backend: thread.backend });
        this.log.info('connecting', { url: redactUrl(this.options.url) });
        this.armGiveUp();
        this.socket.connect();
      },
      (err) => {
        const error = toFedtlError(err);
        this.log.error('the training thread could not start', { code: error.code, error: error.message });
        this.end('failed', error);
      },
    );
  }

  /** `tf.memory().numTensors` in the training thread (tests check that rounds leave no tensor behind). */
  trainingThreadTensors(): Promise<number> {
    return this.learner.numTensors();
  }

  /** Disconnects and stops the training thread. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.giveUpTimer);
    clearTimeout(this.rejoinTimer);
    this.socket.disconnect();
    await this.learner.close();
  }

  private async join(): Promise<void> {
    const { data, clientId, token } = this.options;
    const payload = encodeJoin({
      clientId,
      token,
      protocolVersion: PROTOCOL_VERSION,
      backbone: data.backbone,
      labels: data.labelSet,
      numTrainExamples: data.train.labels.length,
      numTestExamples: data.test.labels.length,
      features: [SECAGG_FEATURE, FEDPROX_FEATURE, PER_FEDAVG_FEATURE, DP_SGD_FEATURE, DP_FEDAVG_FEATURE, LORA_FEATURE],
      privacyPolicy: this.policy,
    });
    let welcome: Welcome;
    try {
      const reply = decodeJoinReply(await emitWithAck(this.socket, 'join', payload, this.options.ackTimeoutMs));
      if (!reply.ok) throw new FedtlError(reply.error.code, reply.error.message);
      welcome = reply.welcome;
    } catch (err) {
      const error = toFedtlError(err);
      if (this.ended) return; // the verdict came first: the run is over, whatever the join's answer
      if (error.code === 'FEDTL_ERR_ACK_TIMEOUT') {
        this.reconnectAfterUnacknowledgedJoin(error);
        return;
      }
      this.log.error('the coordinator refused this client', { code: error.code, error: error.message });
      this.end('refused', error);
      return;
    }
    if (policyRequiresSecureAggregation(this.policy) && !welcome.secureAggregation) {
      const error = new FedtlError(
        'FEDTL_ERR_POLICY_REFUSED',
        `this client's privacy policy (${describePolicy(this.policy)}) requires secure aggregation, and run ${welcome.runId} does not use it (its terms carry no secure aggregation): its updates would be sent in the clear`,
      );
      this.log.error('the run breaks this client\'s privacy policy', { offeredRunId: welcome.runId, code: error.code, error: error.message });
      this.end('refused', error);
      return;
    }
    try {
      await this.onWelcome(welcome);
    } catch (err) {
      // The coordinator accepted us but this client cannot train for its run (a label outside the run's set,
      // a training thread that cannot start): a local failure, not a refusal.
      const error = toFedtlError(err);
      this.log.error('cannot take part in this run', { code: error.code, error: error.message });
      this.end('failed', error);
    }
  }

  /**
   * The coordinator did not answer the join: connect again after a pause that doubles with each unanswered
   * join (reconnectDelayMs up to reconnectDelayMaxMs), so a busy coordinator is not hammered.
   */
  private reconnectAfterUnacknowledgedJoin(error: FedtlError): void {
    const base = this.options.reconnectDelayMs ?? 1000;
    const delayMs = Math.min(base * 2 ** this.unacknowledgedJoins, this.options.reconnectDelayMaxMs ?? 30_000);
    this.unacknowledgedJoins++;
    this.log.warn('join not acknowledged; reconnecting after a pause', { delayMs, error: error.message });
    this.socket.disconnect();
    this.armGiveUp();
    clearTimeout(this.rejoinTimer);
    this.rejoinTimer = setTimeout(() => {
      if (!this.stopped && !this.ended) this.socket.connect();
    }, delayMs);
  }

  private async onWelcome(welcome: Welcome): Promise<void> {
    if (this.runId !== welcome.runId) {
      this.runTensors = await this.learner.startRun(welcome.model);
      this.errorFeedback.reset();
      this.roundsJoined = 0;
      this.roundsRefused = 0;
    }
    this.runId = welcome.runId;
    this.log = createLogger('client').child({ clientId: this.options.clientId, runId: welcome.runId });
    this.maxMessageBytes = welcome.maxMessageBytes ?? 0;
    this.unacknowledgedJoins = 0;
    this.lastJoinedAt = Date.now();
    this.lastRefusal = undefined;
    clearTimeout(this.giveUpTimer);
    this.giveUpTimer = undefined;
    this.welcomedThisSession = true;
    this.expectedTensors = this.runTensors;
    this.markWelcomed();
    this.log.info('joined', { round: welcome.currentRound, labels: welcome.model.labels });
    this.emit('welcome', welcome);
  }

  private onRoundPlan(payload: unknown, ack: (reply: Uint8Array) => void): void {
    const plan = this.acceptRequest((bytes) => decodeRoundPlan(bytes, { expectedTensors: this.expectedTensors }), payload, ack);
    if (!plan) return;
    if (plan.secureAggregation) {
      // Not in the training queue, so nothing else would catch what it throws: answered here, never unhandled.
      this.startSecAggRound(plan, payload).catch((err) => this.planFailed(plan, 'the round under secure aggregation failed', err));
      return;
    }
    this.secagg = undefined;
    this.enqueue(async () => {
      await this.welcomed;
      if (this.isStale(plan.runId, 'round plan', plan.round)) return;
      if (await this.refusedByPolicy(plan)) return;
      const update = await this.train(plan);
      // The run may have ended while this client trained (a coordinator restarted with --fresh).
      if (!update || this.isStale(plan.runId, 'update', plan.round)) return;
      const metrics: Metrics = update.metrics;
      const compression = plan.config.updateCompression;
      let compressed;
      let payload: Uint8Array;
      try {
        compressed = this.errorFeedback.compress(update.delta, compression, plan.config.updateClipNorm);
        payload = encodeUpdate(
          { runId: plan.runId, round: plan.round, clientId: this.options.clientId, delta: compressed.delta, numExamples: update.numExamples, metrics },
          { tensorEncoding: compressed.encoding },
        );
      } catch (err) {
        // A value float16 cannot hold (beyond ±65504) or int8 cannot quantise (not finite): said, not thrown away.
        const error = toFedtlError(err);
        this.log.error('cannot encode the update as the plan asks', { round: plan.round, compression: formatUpdateCompression(compression), code: error.code, error: error.message });
        await this.send('round-failed', encodeError({ code: error.code, message: `round ${plan.round}: ${error.message}` }), plan.round);
        return;
      }
      if (this.maxMessageBytes > 0 && payload.byteLength > this.maxMessageBytes) {
        // Sent anyway, it would only get the connection dropped, and the next try the same: stop, and say why.
        const error = new FedtlError(
          'FEDTL_ERR_MESSAGE_TOO_LARGE',
          `expected an update of at most ${this.maxMessageBytes} bytes (the coordinator's limit), got ${payload.byteLength} bytes for round ${plan.round}`,
        );
        this.log.error('update too large for the coordinator', { round: plan.round, code: error.code, error: error.message });
        await this.send('round-failed', encodeError({ code: error.code, message: error.message }), plan.round);
        this.end('failed', error);
        return;
      }
      if (await this.send('update', payload, plan.round)) {
        // Only now is the unsent part the residual: a refused update sent nothing, and the old residual stands.
        this.errorFeedback.commit(compressed);
        if (compressed.residual) this.log.debug('top-k residual kept for the next round', { round: plan.round, residualNorm: this.errorFeedback.residualNorm, carried: compressed.carried, clipped: compressed.clipped });
        this.roundsJoined++;
        // Under a DP plan the training metrics are withheld (learner.ts): say nothing rather than "undefined".
        this.log.info('update accepted', { round: plan.round, bytes: payload.byteLength, compression: formatUpdateCompression(compression), ...(metrics.loss !== undefined ? { loss: metrics.loss, accuracy: metrics.accuracy } : {}) });
      }
      this.emit('trained', plan.round);
    });
  }

  /**
   * Local training on the plan, with its wall time in the metrics (`seconds`; its throughput and memory are logged,
   * not sent: a coordinator refuses metrics it does not know); undefined when the privacy budget
   * refused the plan or training failed, after `onFailure` ran and the coordinator was told at once with
   * 'round-failed', so the round does not wait for its deadline on this client. A DP-SGD round's spend is in the
   * ledger before this returns, so before its update leaves; a ledger that cannot be written stops the client.
   */
  private async train(plan: RoundPlan, onFailure?: () => void): Promise<LocalUpdate | undefined> {
    // Checked here, in the training queue, as well as on arrival: a round trained before this one may have
    // recorded its spend since.
    if (await this.refusedByBudget(plan)) {
      onFailure?.();
      return undefined;
    }
    const started = Date.now();
    let trained: LocalUpdate;
    const progress = trainingProgress(plan.round, plan.config.localEpochs);
    try {
      // The plan carries the round's seed; mixing in this client's id gives each client its own shuffles.
      trained = await this.learner.fit(plan.weights, { ...plan.config, seed: deriveSeed(plan.config.seed, this.options.clientId) }, progress.onProgress).finally(progress.stop);
    } catch (err) {
      const error = toFedtlError(err);
      this.log.error('local training failed', { round: plan.round, code: error.code, error: error.message });
      onFailure?.();
      await this.send('round-failed', encodeError({ code: error.code, message: error.message }), plan.round);
      return undefined;
    }
    if (trained.privacy) {
      try {
        await this.recordSpend(plan, trained.privacy);
      } catch (err) {
        const error = toFedtlError(err);
        if (error.code === 'FEDTL_ERR_PRIVACY_BUDGET') {
          // Another process sharing the ledger file recorded since the plan was checked, and the budget, checked
          // again under the file's lock, has no room left for this round: its update is not sent.
          this.roundsRefused++;
          this.log.warn('round refused at record time: this client\'s differential-privacy budget (the shared ledger grew meanwhile); its update is not sent', { round: plan.round, reason: error.message });
          onFailure?.();
          await this.send('round-failed', encodeError({ code: error.code, message: error.message }), plan.round);
          return undefined;
        }
        this.log.error('cannot record the round\'s privacy spend: its update is not sent', { round: plan.round, code: error.code, error: error.message });
        onFailure?.();
        await this.send('round-failed', encodeError({ code: error.code, message: error.message }), plan.round);
        this.end('failed', error);
        return undefined;
      }
    }
    if (trained.clientLevel) this.log.info('delta clipped and noised (DP-FedAvg)', { round: plan.round, ...trained.clientLevel, clip: plan.config.updateClipNorm });
    const update = this.options.tamperUpdate?.(trained) ?? trained;
    const seconds = (Date.now() - started) / 1000;
    // Throughput over all local epochs (texts, or feature rows, per second) and the process's memory: what a round
    // costs this machine, LoRA through the encoder or a head on frozen features.
    const textsPerSecond = (trained.numExamples * plan.config.localEpochs) / Math.max(seconds, 1e-3);
    this.log.info('local training done', { round: plan.round, examples: trained.numExamples, epochs: plan.config.localEpochs, seconds, textsPerSecond: Math.round(textsPerSecond * 10) / 10, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) });
    return { ...update, metrics: { ...update.metrics, seconds } };
  }

  /**
   * True (after telling the coordinator with 'round-failed' FEDTL_ERR_PRIVACY_BUDGET, and logging why) when this
   * client's differential-privacy budget refuses the plan: it would take the ledger over --dp-epsilon, or it
   * trains without DP-SGD (ε = ∞). The client only learns a run's terms plan by plan, so this is where it refuses.
   */
  private async refusedByBudget(plan: RoundPlan): Promise<boolean> {
    let reason: string | undefined;
    try {
      reason = await this.options.privacyLedger?.refusal(plan, this.options.data.train.labels.length);
    } catch (err) {
      await this.vettingFailed(plan, 'budget', err);
      return true;
    }
    if (reason === undefined) return false;
    this.roundsRefused++;
    this.log.warn('round refused: this client\'s differential-privacy budget', { round: plan.round, reason });
    await this.send('round-failed', encodeError({ code: 'FEDTL_ERR_PRIVACY_BUDGET', message: reason }), plan.round);
    return true;
  }

  /** Records a DP-SGD round in the ledger (its noise is spent once the update is released) and logs the total. */
  private async recordSpend(plan: RoundPlan, spend: NonNullable<LocalUpdate['privacy']>): Promise<void> {
    const ledger = this.options.privacyLedger;
    if (!ledger) return;
    if (!(spend.noiseMultiplier > 0)) {
      this.log.warn('trained by DP-SGD without noise: no guarantee to record (ε = ∞ for this round)', { round: plan.round });
      return;
    }
    await ledger.record({ round: plan.round, unit: 'record', ...spend, subject: plan.runId });
    const total = ledger.spent();
    this.log.info("privacy spent on this client's data", {
      round: plan.round,
      epsilon: total.epsilon,
      delta: total.delta,
      rounds: total.rounds,
      ...(ledger.budget ? { budget: ledger.budget.epsilon } : {}),
      ledger: ledger.path,
    });
  }

  /**
   * True (after telling the coordinator with 'round-failed' FEDTL_ERR_POLICY_REFUSED, and logging why) when the
   * privacy policy refuses the plan: this client then does not train on it.
   */
  private async refusedByPolicy(plan: RoundPlan): Promise<boolean> {
    const secagg = plan.secureAggregation;
    let reason: string | null;
    try {
      reason = policyViolation(this.policy, {
        batchSize: plan.config.batchSize,
        numExamples: this.options.data.train.labels.length,
        roundsJoined: this.roundsJoined,
        ...(secagg ? { secureAggregation: { threshold: secagg.threshold, numSelected: secagg.numSelected } } : {}),
      });
    } catch (err) {
      await this.vettingFailed(plan, 'privacy policy', err);
      return true;
    }
    if (reason === null) return false;
    this.roundsRefused++;
    this.log.warn('round refused by this client\'s privacy policy', { round: plan.round, policy: describePolicy(this.policy), reason });
    await this.send('round-failed', encodeError({ code: 'FEDTL_ERR_POLICY_REFUSED', message: `round ${plan.round}: ${reason}` }), plan.round);
    return true;
  }

  /**
   * A check of the plan (the privacy policy, the budget) threw instead of answering: the plan is not trained on,
   * and the coordinator is told at once with 'round-failed' (the check's own code, FEDTL_ERR_INTERNAL for an
   * unexpected error), so the round does not wait for its deadline on this client.
   */
  private async vettingFailed(plan: RoundPlan, check: string, err: unknown): Promise<void> {
    const cause = toFedtlError(err);
    const error = new FedtlError(cause.code, `round ${plan.round}: its plan could not be checked against this client's ${check}: ${cause.message}`);
    this.log.error('round refused: its plan could not be checked', { round: plan.round, check, code: error.code, error: error.message });
    await this.send('round-failed', encodeError({ code: error.code, message: error.message }), plan.round);
  }

  /**
   * The last resort on a plan's path outside the training queue: whatever was thrown is logged and, as far as the
   * connection allows, answered with 'round-failed'; never an unhandled rejection.
   */
  private planFailed(plan: RoundPlan, what: string, err: unknown): void {
    const error = toFedtlError(err);
    this.log.error(what, { round: plan.round, code: error.code, error: error.message });
    if (this.secagg?.round === plan.round) this.secagg = undefined;
    this.settled(this.send('round-failed', encodeError({ code: error.code, message: `round ${plan.round}: ${error.message}` }), plan.round), 'round-failed');
  }

  /**
   * A round under secure aggregation (secagg.proto): the policy check and AdvertiseKeys go out at once, not
   * behind the training queue, so the key rounds proceed while this client trains; the masked input goes out
   * once both the training result and the ShareDelivery are in (SecAggAttempt). Never an Update.
   */
  private async startSecAggRound(plan: RoundPlan, payload: unknown): Promise<void> {
    await this.welcomed;
    if (this.isStale(plan.runId, 'round plan', plan.round)) return;
    this.secagg = undefined;
    if (await this.refusedByPolicy(plan)) return;
    if (await this.refusedByBudget(plan)) return;
    let attempt: SecAggAttempt;
    try {
      attempt = new SecAggAttempt(this.options.clientId, plan, payload, this.policy, this.unmaskLedger);
    } catch (err) {
      const error = toFedtlError(err);
      this.log.warn('round refused: its secure-aggregation terms', { round: plan.round, code: error.code, error: error.message });
      await this.send('round-failed', encodeError({ code: error.code, message: error.message }), plan.round);
      return;
    }
    this.secagg = attempt;
    const { attempt: number, threshold, numSelected } = attempt.participant.params;
    this.log.info('round under secure aggregation', { round: plan.round, attempt: number, threshold, selected: numSelected });
    this.settled(this.send('secagg-advertise', encodeAdvertiseKeys(attempt.participant.advertise()), plan.round), 'secagg-advertise');
    this.enqueue(async () => {
      if (this.secagg !== attempt || this.isStale(plan.runId, 'round plan', plan.round)) return;
      const update = await this.train(plan, () => {
        if (this.secagg === attempt) this.secagg = undefined;
      });
      if (!update) return;
      if (this.secagg !== attempt) {
        this.log.warn('training result dropped: a newer plan replaced its secure-aggregation attempt', { round: plan.round });
        return;
      }
      await this.sendMaskedInput(attempt, () => attempt.onTrained(update));
    });
  }

  /** Makes y_u if both halves are in (`make`) and sends it; a failure to mask is reported with 'round-failed'. */
  private async sendMaskedInput(attempt: SecAggAttempt, make: () => MaskedInput | undefined): Promise<void> {
    let masked: MaskedInput | undefined;
    try {
      masked = make();
    } catch (err) {
      const error = toFedtlError(err);
      this.log.error('cannot make the masked input', { round: attempt.round, code: error.code, error: error.message });
      await this.send('round-failed', encodeError({ code: error.code, message: error.message }), attempt.round);
      return;
    }
    if (!masked) return;
    const packing = attempt.participant.packing;
    if (packing?.clipFactor !== undefined) this.log.info('delta clipped to the round\'s L2 bound', { round: attempt.round, norm: packing.norm, clip: attempt.participant.params.clip });
    if (await this.send('secagg-masked-input', encodeMaskedInput(masked), attempt.round)) {
      this.roundsJoined++;
      this.log.info('masked input accepted', { round: attempt.round, weight: packing?.weight });
    }
    this.emit('trained', attempt.round);
  }

  /** 'secagg-keys': U1 → ShareKeys, acknowledged ok once the directory passes the participant's checks. */
  private async onKeyDirectory(payload: unknown, ack: (reply: Uint8Array) => void): Promise<void> {
    const attempt = this.secagg;
    const shareKeys = await this.answerSecAgg('KeyDirectory', ack, () => {
      const directory = decodeKeyDirectory(payload);
      return this.participantFor(directory.round).onKeyDirectory(directory);
    });
    if (shareKeys && attempt) await this.send('secagg-shares', encodeShareKeys(shareKeys), attempt.round);
  }

  /** 'secagg-share-delivery': U2; the masked input follows if training is done. */
  private onShareDelivery(payload: unknown, ack: (reply: Uint8Array) => void): void {
    const attempt = this.secagg;
    const done = this.answerSecAgg('ShareDelivery', ack, () => {
      const delivery = decodeShareDelivery(payload);
      this.participantFor(delivery.round).onShareDelivery(delivery);
      return true;
    }).then((taken) => {
      if (taken && attempt) return this.sendMaskedInput(attempt, () => attempt.onDelivered());
    });
    this.settled(done, 'secagg-share-delivery');
  }

  /** 'secagg-unmask': acknowledged ok only when the request passes the safety rule; then the UnmaskShares. */
  private onUnmaskRequest(payload: unknown, ack: (reply: Uint8Array) => void): void {
    const attempt = this.secagg;
    const done = this.answerSecAgg('UnmaskRequest', ack, () => {
      const request = decodeUnmaskRequest(payload);
      return this.participantFor(request.round).onUnmaskRequest(request);
    }).then((shares) => {
      if (shares && attempt) return this.send('secagg-unmask-shares', encodeUnmaskShares(shares), attempt.round).then(() => undefined);
    });
    this.settled(done, 'secagg-unmask');
  }

  /** The current attempt's participant; FEDTL_ERR_WRONG_ROUND when no secure-aggregation round is in progress. */
  private participantFor(round: number) {
    if (!this.secagg) {
      throw new FedtlError('FEDTL_ERR_WRONG_ROUND', `secure aggregation: no round attempt in progress on this client, got a message for round ${round}`);
    }
    return this.secagg.participant;
  }

  /** Runs a participant step and acknowledges: ok with its result, or its error (logged), then undefined. */
  private async answerSecAgg<T>(what: string, ack: (reply: Uint8Array) => void, step: () => T | Promise<T>): Promise<T | undefined> {
    try {
      const result = await step();
      ack(encodeAck({ ok: true }));
      return result;
    } catch (err) {
      const error = toFedtlError(err);
      this.log.warn(`refused a secure-aggregation ${what}`, { code: error.code, error: error.message });
      ack(encodeAck({ ok: false, error: { code: error.code, message: error.message } }));
      return undefined;
    }
  }

  private onEvaluateRequest(payload: unknown, ack: (reply: Uint8Array) => void): void {
    const request = this.acceptRequest((bytes) => decodeEvaluateRequest(bytes, { expectedTensors: this.expectedTensors }), payload, ack);
    if (!request) return;
    this.enqueue(async () => {
      await this.welcomed;
      if (this.isStale(request.runId, 'evaluation request', request.round)) return;
      let result: Awaited<ReturnType<LearnerThread['evaluate']>>;
      try {
        result = await this.learner.evaluate(request.weights);
      } catch (err) {
        // Tell the coordinator at once, so its evaluation does not wait for its deadline on us.
        const error = toFedtlError(err);
        this.log.error('local evaluation failed', { round: request.round, code: error.code, error: error.message });
        await this.send('evaluate-failed', encodeError({ code: error.code, message: error.message }), request.round);
        return;
      }
      if (this.isStale(request.runId, 'evaluation report', request.round)) return;
      const payload = encodeEvaluateReport({ runId: request.runId, round: request.round, clientId: this.options.clientId, ...result });
      if (await this.send('evaluate-report', payload, request.round)) {
        this.log.info('evaluated', { round: request.round, accuracy: result.metrics.accuracy });
      }
      this.emit('evaluated', request.round);
    });
  }

  /**
   * True (and logged) for work of a run other than the one this client was last welcomed into: a coordinator
   * restarted with --fresh between the request's arrival and its turn in the queue. Its result would be refused.
   */
  private isStale(runId: string, what: string, round: number): boolean {
    if (runId === this.runId) return false;
    this.log.warn(`${what} skipped: it belongs to a run that is over`, { round, staleRunId: runId });
    return true;
  }

  /** Decodes a request and acknowledges it at once (work follows in the queue); undefined if undecodable. */
  private acceptRequest<T>(decode: (payload: unknown) => T, payload: unknown, ack: (reply: Uint8Array) => void): T | undefined {
    try {
      const request = decode(payload);
      ack(encodeAck({ ok: true }));
      return request;
    } catch (err) {
      const error = toFedtlError(err);
      this.log.warn('refused an undecodable request', { code: error.code, error: error.message });
      ack(encodeAck({ ok: false, error: { code: error.code, message: error.message } }));
      return undefined;
    }
  }

  /**
   * Sends a result and logs a refusal; true when the coordinator accepted it. A result whose connection is
   * gone is dropped at once rather than buffered or waited on: the coordinator re-sends the round in progress
   * to a client that rejoins, so the queue must be free for that plan as soon as the link is back.
   */
  private async send(event: Exclude<ClientRequestEvent, 'join'>, payload: Uint8Array, round: number): Promise<boolean> {
    if (!this.socket.connected) {
      this.log.warn(`${event} dropped: not connected`, { round });
      return false;
    }
    let onDisconnect: () => void = () => undefined;
    const disconnected = new Promise<'disconnected'>((resolve) => {
      onDisconnect = () => resolve('disconnected');
      this.socket.once('disconnect', onDisconnect);
    });
    const acknowledged = emitWithAck(this.socket, event, payload, this.options.ackTimeoutMs);
    acknowledged.catch(() => undefined); // when the disconnect wins the race, the ack's later timeout is moot
    try {
      const answer = await Promise.race([acknowledged, disconnected]);
      if (answer === 'disconnected') {
        this.log.warn(`${event} lost: the connection dropped before the coordinator answered`, { round });
        return false;
      }
      const reply = decodeAck(answer);
      if (!reply.ok) this.log.warn(`${event} refused`, { round, code: reply.error?.code, error: reply.error?.message });
      return reply.ok;
    } finally {
      this.socket.off('disconnect', onDisconnect);
    }
  }

  private onCoordinatorError(payload: unknown): void {
    try {
      const error = decodeError(payload);
      this.lastCoordinatorError = error;
      this.log.warn('the coordinator reported an error', { code: error.code, error: error.message });
    } catch (err) {
      this.log.warn('undecodable error message from the coordinator', { error: (err as Error).message });
    }
  }

  /**
   * A new session starts at every disconnect; jobs still waiting for a Welcome keep waiting for the next one
   * (the promise is only replaced once it has resolved).
   */
  private startSession(): void {
    if (!this.welcomedThisSession) return;
    this.welcomedThisSession = false;
    this.expectedTensors = undefined;
    this.welcomed = new Promise((resolve) => (this.markWelcomed = resolve));
  }

  /** The coordinator's verdict: acknowledged at once, then the client stops (the run is over either way). */
  private onRunEnd(payload: unknown, ack: (reply: Uint8Array) => void): void {
    let verdict: RunEnd;
    try {
      verdict = decodeRunEnd(payload);
    } catch (err) {
      const error = toFedtlError(err);
      this.log.warn('refused an undecodable verdict', { code: error.code, error: error.message });
      ack(encodeAck({ ok: false, error: { code: error.code, message: error.message } }));
      return;
    }
    ack(encodeAck({ ok: true }));
    if (verdict.status === 'finished' && verdict.runId !== this.runId) {
      // A run this client never took part in (it joined after the run was over, e.g. while the coordinator
      // lingered): its success is not this client's, and the join that follows is refused.
      const error = new FedtlError(
        'FEDTL_ERR_WRONG_RUN',
        `the run ${verdict.runId} was already over when this client joined (it finished after ${verdict.roundsCompleted} rounds); start the client when the next run's coordinator is up`,
      );
      this.log.error('the run was already over', { verdictRunId: verdict.runId, rounds: verdict.roundsCompleted, code: error.code, error: error.message });
      this.end('failed', error);
      return;
    }
    if (verdict.status === 'finished') {
      this.log.info('the run finished', { rounds: verdict.roundsCompleted, roundsWithAnUpdateFromThisClient: this.roundsJoined, ...(this.roundsRefused > 0 ? { refusedByThisClientsPolicy: this.roundsRefused } : {}) });
      if (this.roundsJoined === 0) {
        this.log.warn('this client sent no update that counted in this run', { refusedByThisClientsPolicy: this.roundsRefused, policy: describePolicy(this.policy) });
      }
    } else {
      this.log.error('the run failed', { ...(verdict.runId !== this.runId ? { verdictRunId: verdict.runId } : {}), rounds: verdict.roundsCompleted, code: verdict.error.code, error: verdict.error.message });
    }
    this.end('finished', verdict);
  }

  private onConnectError(err: Error): void {
    if (this.ended) return;
    // An authentication refusal (at the handshake or by the server's middleware): retrying won't help.
    const refusal = handshakeRefusalOf(err);
    const code = refusal?.code;
    this.lastRefusal = refusal && RETRYABLE_REFUSAL_CODES.has(refusal.code) ? refusal : undefined;
    if (refusal && code === 'FEDTL_ERR_UNAUTHORIZED') {
      const error = new FedtlError('FEDTL_ERR_UNAUTHORIZED', describeRefusal(refusal, this.options.token !== ''));
      this.log.error('the coordinator refused the connection', { code, error: error.message });
      this.end('refused', error);
      return;
    }
    // Socket.IO reads a URL's path as a namespace, which the coordinator does not have.
    if (err.message === 'Invalid namespace') {
      const url = new URL(this.options.url);
      const error = new FedtlError('FEDTL_ERR_BAD_CONFIG', `--coordinator: expected a URL without a path, such as ${url.protocol}//${url.host}, got ${redactUrl(this.options.url)}`);
      this.log.error('wrong coordinator URL', { code: error.code, error: error.message });
      this.end('failed', error);
      return;
    }
    const tls = tlsFailureOf(err);
    if (tls) {
      const error = new FedtlError('FEDTL_ERR_TLS', describeTlsFailure(redactUrl(this.options.url), tls));
      this.log.error('TLS handshake failed', { code: error.code, error: error.message });
      this.end('failed', error);
      return;
    }
    // Refused by the server's middleware for another reason: Socket.IO does not retry those by itself.
    if (!this.socket.active) {
      const error = new FedtlError(isErrorCode(code) ? code : 'FEDTL_ERR_INTERNAL', `the coordinator refused the connection: ${err.message}`);
      this.log.error('the coordinator refused the connection', { code: error.code, error: error.message });
      this.end('refused', error);
      return;
    }
    if (this.lastRefusal) {
      const meaning = describeRefusal(this.lastRefusal, this.options.token !== '');
      this.log.warn('the coordinator refused the connection for now; retrying with backoff', { code: this.lastRefusal.code, error: meaning });
      return;
    }
    this.log.warn('cannot reach the coordinator; retrying with backoff', { error: err.message });
  }

  private onDisconnect(reason: Socket.DisconnectReason): void {
    this.startSession();
    if (this.ended || this.stopped) return;
    if (reason === 'io server disconnect' && this.lastCoordinatorError?.code === 'FEDTL_ERR_UNAUTHORIZED') {
      // This client's credentials were withdrawn (its per-client token revoked): reconnecting cannot help.
      const error = new FedtlError('FEDTL_ERR_UNAUTHORIZED', `the coordinator ended the session: ${this.lastCoordinatorError.message}`);
      this.log.error('the coordinator no longer admits this client', { code: error.code, error: error.message });
      this.end('refused', error);
    } else if (reason === 'io server disconnect') {
      // Only a verdict ends a run; a session closed without one (this client was evicted or replaced, or the
      // coordinator is older than RunEnd) is not a finished run.
      const last = this.lastCoordinatorError ? ` (its last error: ${this.lastCoordinatorError.code}: ${this.lastCoordinatorError.message})` : '';
      const error = new FedtlError('FEDTL_ERR_RUN_FAILED', `the coordinator ended the session without a verdict${last}`);
      this.log.error('the coordinator ended the session without a verdict', { code: error.code, error: error.message });
      this.end('failed', error);
    } else if (reason !== 'io client disconnect') {
      this.log.warn('connection lost; reconnecting with backoff', { reason });
      this.armGiveUp();
    }
  }

  /** Starts the give-up clock unless it runs already: it stops only when a Welcome arrives. */
  private armGiveUp(): void {
    if (this.giveUpTimer || this.ended || this.stopped) return;
    const giveUpAfterMs = this.options.giveUpAfterMs ?? DEFAULT_GIVE_UP_AFTER_MS;
    this.giveUpTimer = setTimeout(() => {
      const error = new FedtlError(
        'FEDTL_ERR_UNREACHABLE',
        giveUpMessage({ url: redactUrl(this.options.url), giveUpAfterMs, lastJoinedAt: this.lastJoinedAt, lastRefusal: this.lastRefusal }),
        { url: redactUrl(this.options.url), giveUpAfterMs, lastRefusal: this.lastRefusal?.code },
      );
      this.log.error('giving up on the coordinator', { code: error.code, error: error.message });
      this.end('failed', error);
    }, giveUpAfterMs);
  }

  /** Emits the session's one terminal event and stops reconnecting. */
  private end(event: 'finished', verdict: RunEnd): void;
  private end(event: 'refused' | 'failed', error: FedtlError): void;
  private end(event: 'finished' | 'refused' | 'failed', outcome: RunEnd | FedtlError): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.giveUpTimer);
    clearTimeout(this.rejoinTimer);
    this.socket.disconnect();
    if (event === 'finished') this.emit('finished', outcome as RunEnd);
    else this.emit(event, outcome as FedtlError);
  }

  /**
   * Work started from a socket handler, outside the training queue: what it throws (an answer the coordinator
   * never acknowledged) is logged, never left an unhandled rejection that would stop the process.
   */
  private settled(work: Promise<unknown>, what: string): void {
    work.catch((err) => {
      const error = toFedtlError(err);
      this.log.warn(`${what} failed`, { code: error.code, error: error.message });
    });
  }

  private enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(job).catch((err) => {
      this.log.error('local job failed', { error: (err as Error).message });
    });
  }
}
