// The round runner: waits for a quorum, samples clients, sends plans, aggregates their updates as they
// arrive, checkpoints, evaluates, and repeats. Transport-agnostic: the Socket.IO glue (server.ts) calls
// handleJoin/handleUpdate/handleEvaluateReport/handleLeave and provides a ClientLink per client.
import { EventEmitter } from 'node:events';
import { FedtlError, boundText, createLogger, deriveSeed, quoteUntrusted, secretsEqual, seededRandom, toFedtlError, type ErrorCode } from '@fedtl/util';
import {
  DP_FEDAVG_FEATURE,
  DP_SGD_FEATURE,
  LORA_FEATURE,
  PROTOCOL_VERSION,
  SECAGG_FEATURE,
  encodeEvaluateRequest,
  encodeRoundPlan,
  type BackboneRef,
  type EvaluateReport,
  type JoinRequest,
  type Metrics,
  type ModelSpec,
  type NamedTensor,
  type ProtocolError,
  type SecAggParams,
  type AdvertiseKeys,
  type MaskedInput,
  type ShareKeys,
  type TrainingConfig,
  type UnmaskShares,
  type Update,
  type Welcome,
} from '@fedtl/protocol';
import { chooseFractionalBits, describePolicy, planSession, policyRequiresSecureAggregation, PrivacyLedger, type PrivacyEvent, type PrivacySpend } from '@fedtl/privacy';
import { checkLabelSubset } from '@fedtl/data';
import { divergedError, firstNonFinite } from '@fedtl/model';
import { DpFedAvgAggregator, type AggregateResult, type ClientFailure, type RoundAggregator, type RoundConfiguration, type Strategy } from '@fedtl/strategies';
import type { Checkpoint, CheckpointStore } from './checkpoint-store';
import { CLIENT_ID_RULE, ClientRegistry, isValidClientId, type ClientLink } from './client-registry';
import { EvaluationCollector } from './evaluation-collector';
import { FAILURE_MESSAGE_CHARS, type MetricsLog, type RoundRecord } from './metrics-log';
import type { NormBound } from './norm-bound';
import { checkRoundBudget, describeSpend, planTerms, poissonSample, roundEvents, type DifferentialPrivacyOptions } from './privacy/differential-privacy';
import { RoundCollector, type BoundedUpdate, type TensorSpec } from './round-collector';
import { SecureAggregationRound } from './secagg/secagg-round';
import { defaultThreshold, secAggParamsFor } from './secagg/secagg-terms';
import { weightCaps } from './share-cap';
import type { TokenCheck } from './credentials/token-store';
import type { TrafficCounter } from './traffic-counter';

export interface CoordinatorOptions {
  runId: string;
  configHash: string;
  rounds: number;
  /** Quorum: the fewest accepted updates that make a round. */
  minClients: number;
  /** Clients that must be joined before a round starts. */
  minAvailable: number;
  roundTimeoutMs: number;
  evalTimeoutMs: number;
  maxRoundAttempts: number;
  /**
   * Wait before re-running a round that missed its quorum, in ms: doubles with each attempt, capped at
   * ROUND_RETRY_DELAY_CAP_MS (or this value if larger). A client that refuses every plan cannot burn the
   * attempts in milliseconds.
   */
  roundRetryDelayMs: number;
  /** How long a selected client that dropped mid-round may take to rejoin before the round gives up on it. */
  rejoinGraceMs: number;
  /** Joined clients at most; a join beyond is refused (FEDTL_ERR_TOO_MANY_CONNECTIONS). */
  maxClients: number;
  /** Selections in a row a client may let pass without an answer before it is disconnected and out of the run. */
  maxMissedRounds: number;
  /** Times one client may be re-sent the round in progress (each rejoin during the round asks for it). */
  maxPlanResends: number;
  /** The shared federation token; empty: none (per-client tokens alone, or no authentication on loopback). */
  token: string;
  /**
   * Per-client tokens are on (a token store exists): a Join must then carry the shared token or a valid per-client
   * token issued to its client id. `isActive` says whether a token id is still unrevoked in the store.
   */
  clientTokens?: { isActive(tokenId: string): boolean };
  seed: number;
  backbone: BackboneRef;
  model: ModelSpec;
  training: Omit<TrainingConfig, 'seed'>;
  initialWeights: NamedTensor[];
  strategy: Strategy;
  store: CheckpointStore;
  metricsLog: MetricsLog;
  traffic: TrafficCounter;
  /** What one client can contribute: the bounds checked before an update is trusted. */
  limits: CoordinatorLimits;
  /** Called with every accepted update as it was aggregated (clipped, weight-capped), e.g. to write an audit trail. */
  onAcceptedUpdate?: (update: Update) => Promise<void> | void;
  /**
   * Secure aggregation (Bonawitz et al. 2017; proto/fedtl/v1/secagg.proto): the coordinator only learns each
   * round's sum. Absent: updates travel in the clear. `threshold` is t, or 0 for ⌊n/2⌋ + 1 of the n selected;
   * `phaseTimeoutMs` bounds each key and unmasking phase.
   */
  secureAggregation?: { threshold: number; phaseTimeoutMs: number };
  /**
   * Differential privacy (docs/PROTOCOL.md §7.1): record-level DP-SGD or client-level DP-FedAvg, the run's ledger and
   * its budget. Absent: none, and no ledger.
   */
  privacy?: DifferentialPrivacyOptions;
}

/** What an operator sees of the run's differential privacy (status API, Prometheus, summary.json). */
export interface PrivacyStatus {
  mechanism: DifferentialPrivacyOptions['mechanism'];
  budget?: DifferentialPrivacyOptions['budget'];
  delta: number;
  /** ε spent so far at `delta`, per unit (empty before the first charged round). */
  spent: PrivacySpend[];
  /** Events in the ledger. */
  events: number;
}

export interface CoordinatorLimits {
  updateNorm: NormBound;
  /** Largest share of a round's aggregation weight one client may carry, in (0, 1]. */
  maxClientShare: number;
  /** Largest training or test example count a client may declare at Join. */
  maxDeclaredExamples: number;
}

/** The longest wait between two attempts at a round, unless roundRetryDelayMs itself is longer. */
export const ROUND_RETRY_DELAY_CAP_MS = 60_000;

/** The wait before attempt `attempt + 1` of a round: base · 2^(attempt−1), capped. */
export function roundRetryDelay(baseMs: number, attempt: number): number {
  return Math.min(baseMs * 2 ** (attempt - 1), Math.max(baseMs, ROUND_RETRY_DELAY_CAP_MS));
}

export interface RunSummary {
  runId: string;
  roundsCompleted: number;
  resumedFrom: number;
  weights: NamedTensor[];
  lastEvaluation: Metrics;
}

/** What the coordinator is doing now, for operators. */
export type CoordinatorPhase = 'waiting for clients' | 'training' | 'evaluating' | 'finished' | 'stopped';

export interface CoordinatorEvents {
  joined: [clientId: string];
  /** A Join the coordinator refused (the client id as it claimed it, when the Join decoded). */
  joinRefused: [clientId: string | undefined, error: ProtocolError];
  left: [clientId: string];
  round: [record: RoundRecord];
  /** The phase or its deadline changed, or a round accepted an update: what a live view redraws on. */
  progress: [];
}

/** A decoded secure-aggregation message from a client, by its event. */
export type SecAggMessage =
  | { kind: 'advertise'; body: AdvertiseKeys }
  | { kind: 'shares'; body: ShareKeys }
  | { kind: 'masked-input'; body: MaskedInput }
  | { kind: 'unmask-shares'; body: UnmaskShares };

/**
 * Secure aggregation's clip bounds every masked entry, so it must hold a clipped update plus the client's noise:
 * S + s·(√d + 8) with s = z·S/√t exceeds the noisy update's norm except with probability below e^(−32) (the
 * Gaussian norm's concentration, Laurent and Massart 2000), and the noise is never cut.
 */
function withClientNoise(params: SecAggParams, clipNorm: number, noiseMultiplier: number, global: readonly NamedTensor[]): SecAggParams {
  const size = global.reduce((sum, t) => sum + t.data.length, 0);
  const stddev = (noiseMultiplier * clipNorm) / Math.sqrt(params.threshold);
  const clip = Math.max(params.clip, clipNorm + stddev * (Math.sqrt(size) + 8));
  return { ...params, clip, fractionalBits: chooseFractionalBits(params.numSelected, clip) };
}

/** "client-1 (FEDTL_ERR_POLICY_REFUSED), client-2 (…)": at most five, then how many more. */
function describeFailures(failures: readonly ClientFailure[]): string {
  const named = failures.slice(0, 5).map((f) => `${f.clientId} (${f.code})`).join(', ');
  return failures.length > 5 ? `${named} and ${failures.length - 5} more` : named;
}

/** What one attempt at a round collected, in the clear or under secure aggregation. */
interface CollectedRound {
  accepted: string[];
  failures: ClientFailure[];
  bounded: Record<string, BoundedUpdate>;
  result: AggregateResult | null;
}

export class Coordinator extends EventEmitter<CoordinatorEvents> {
  readonly registry = new ClientRegistry();
  private global: NamedTensor[];
  private completedRounds = 0;
  /** Round attempts this process has started: once there is one, waiting for clients has a deadline. */
  private attemptsStarted = 0;
  private resumedFrom = 0;
  private lastEvaluation: Metrics = {};
  private collector?: RoundCollector;
  /** The secure-aggregation attempt in progress (instead of a collector), when the run uses it. */
  private secagg?: SecureAggregationRound;
  /** The last closed round's collector: it still knows whose updates it took, to name a repeat a duplicate. */
  private previousCollector?: RoundCollector;
  /** The encoded plan of the round in progress, for clients that rejoin during it. */
  private currentPlan?: Uint8Array;
  private evaluation?: EvaluationCollector;
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  /** Selections in a row each client let pass without an update or a failure report. */
  private readonly missedRounds = new Map<string, number>();
  /** Clients disconnected for missing maxMissedRounds rounds: refused until the coordinator restarts. */
  private readonly benched = new Set<string>();
  /** Plans re-sent this round, per client. */
  private readonly planResends = new Map<string, number>();
  private quorumWaiter?: () => void;
  /** Ends the wait between round attempts early when the coordinator stops. */
  private retryWaiter?: () => void;
  /** Clients already told (once) that their data's privacy budget is spent and they are no longer selected. */
  private readonly toldBudgetSpent = new Set<string>();
  /** Clients already told (once) that they have no test examples and will not be asked to evaluate. */
  private readonly warnedNoTestSplit = new Set<string>();
  private stopped = false;
  /** Aggregated rounds each client's update was in: a client's --max-rounds policy is met by not selecting it. */
  private readonly contributions = new Map<string, number>();
  /** The failures of the last round attempt, named in the verdict when the run gives up on its quorum. */
  private lastFailures: readonly ClientFailure[] = [];
  private currentPhase: CoordinatorPhase = 'waiting for clients';
  /** When the current phase gives up waiting (epoch ms): the round's or the evaluation's timeout, or the quorum's. */
  private phaseDeadline?: number;
  private activeRound?: number;
  /** The model's tensors: what every update's delta must consist of (checked as it is decoded, server.ts, and in full by RoundCollector). */
  readonly expectedTensors: readonly TensorSpec[];
  private readonly log = createLogger('coordinator');
  /** Every privacy event of the run so far; stored at every charge (privacy.persist) and in every checkpoint. */
  private ledger: PrivacyLedger;

  constructor(private readonly options: CoordinatorOptions) {
    super();
    if (options.secureAggregation && options.strategy.requiresIndividualUpdates) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_CONFIG',
        `--strategy: expected a strategy that aggregates the mean (fedavg, fedavgm, fedadam) with --secure-aggregation, got ${options.strategy.name}, which needs each client's update; the coordinator only learns the sum under secure aggregation`,
      );
    }
    if (options.privacy?.mechanism.unit === 'client' && options.strategy.requiresIndividualUpdates) {
      throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `--strategy: expected a strategy that aggregates the mean with client-level differential privacy, got ${options.strategy.name}; DP-FedAvg adds its noise to the sum`);
    }
    this.ledger = new PrivacyLedger(options.privacy?.initialEvents ?? []);
    this.global = options.strategy.initialize(options.initialWeights);
    this.expectedTensors = this.global.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype }));
  }

  get roundsCompleted(): number {
    return this.completedRounds;
  }

  /** The round this process resumed from (0 for a fresh run). */
  get resumedFromRound(): number {
    return this.resumedFrom;
  }

  get phase(): CoordinatorPhase {
    return this.currentPhase;
  }

  /** When the current phase stops waiting, in epoch milliseconds; undefined when it waits for as long as it takes. */
  get deadline(): number | undefined {
    return this.phaseDeadline;
  }

  /** Enters `phase`, which gives up after `timeoutMs` (none: no deadline), and tells the live views. */
  private enterPhase(phase: CoordinatorPhase, timeoutMs?: number): void {
    this.currentPhase = phase;
    this.phaseDeadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    this.emit('progress');
  }

  /** The round being trained or evaluated now, if any. */
  get roundInProgress(): number | undefined {
    return this.activeRound;
  }

  get globalWeights(): NamedTensor[] {
    return this.global;
  }

  /** The run's privacy ledger and what it adds up to, at the run's δ; undefined when the run uses no DP. */
  get privacy(): PrivacyStatus | undefined {
    const dp = this.options.privacy;
    if (!dp) return undefined;
    return { mechanism: dp.mechanism, ...(dp.budget ? { budget: dp.budget } : {}), delta: dp.delta, spent: this.ledger.spent(dp.delta), events: this.ledger.events.length };
  }

  /** Continues from a checkpoint (the newest valid one, as the store found it) of this configuration. */
  resume(checkpoint: Checkpoint | null): number {
    if (!checkpoint) return 0;
    if (checkpoint.configHash !== this.options.configHash) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_CONFIG',
        `checkpoint ${this.options.store.pathFor(checkpoint.round)} was written with config ${checkpoint.configHash}, this run has ${this.options.configHash}; use --fresh or another --out-dir`,
      );
    }
    this.global = checkpoint.weights;
    this.options.strategy.restore(checkpoint.strategyState);
    // The caller may have found a longer ledger than the checkpoint's (charges after it): that one stands.
    if (this.options.privacy?.initialEvents === undefined) this.ledger = new PrivacyLedger(checkpoint.privacy ?? []);
    this.completedRounds = checkpoint.round;
    this.resumedFrom = checkpoint.round;
    this.log.info('resumed from checkpoint', { round: checkpoint.round });
    return checkpoint.round;
  }

  /**
   * Admits a client. `tokenCheck` is the transport's verification of `join.token` against the token store
   * (ClientCredentials.check: scrypt is asynchronous, this method is not); it is needed when per-client tokens
   * are on and the token is not the shared one.
   */
  handleJoin(link: ClientLink, join: JoinRequest, tokenCheck?: TokenCheck): Welcome {
    const o = this.options;
    if (join.protocolVersion !== PROTOCOL_VERSION) {
      throw new FedtlError('FEDTL_ERR_PROTOCOL_VERSION', `expected protocol version ${PROTOCOL_VERSION}, got ${join.protocolVersion}`);
    }
    const tokenId = this.authenticate(join, tokenCheck);
    if (!isValidClientId(join.clientId)) {
      throw new FedtlError('FEDTL_ERR_MALFORMED_MESSAGE', `expected a client id of ${CLIENT_ID_RULE}, got ${quoteUntrusted(join.clientId)}`);
    }
    if (join.backbone.contentHash !== o.backbone.contentHash || join.backbone.dim !== o.backbone.dim) {
      throw new FedtlError(
        'FEDTL_ERR_BACKBONE_MISMATCH',
        `expected backbone ${o.backbone.id} (hash ${o.backbone.contentHash.slice(0, 12)}…, dim ${o.backbone.dim}), got ${quoteUntrusted(join.backbone.id)} (hash ${join.backbone.contentHash.slice(0, 12)}…, dim ${join.backbone.dim})`,
      );
    }
    // Compared in NFC, and the refusal quotes the client's labels as bounded, escaped excerpts.
    checkLabelSubset(join.labels, o.model.labels);
    const maxDeclared = o.limits.maxDeclaredExamples;
    if (!Number.isInteger(join.numTrainExamples) || join.numTrainExamples < 1 || join.numTrainExamples > maxDeclared) {
      throw new FedtlError('FEDTL_ERR_BAD_EXAMPLE_COUNT', `expected a training example count in [1, ${maxDeclared}] (--max-declared-examples), got ${join.numTrainExamples}`);
    }
    if (!Number.isInteger(join.numTestExamples) || join.numTestExamples < 0 || join.numTestExamples > maxDeclared) {
      throw new FedtlError('FEDTL_ERR_BAD_EXAMPLE_COUNT', `expected a test example count in [0, ${maxDeclared}] (--max-declared-examples), got ${join.numTestExamples}`);
    }
    this.checkPrivacyTerms(join);
    if (this.benched.has(join.clientId)) {
      throw new FedtlError(
        'FEDTL_ERR_ROUND_TIMEOUT',
        `client "${join.clientId}" let ${o.maxMissedRounds} rounds in a row pass without an update (--max-missed-rounds) and is out of this run; expected a client that answers its rounds`,
      );
    }
    if (!this.registry.has(join.clientId) && this.registry.size >= o.maxClients) {
      throw new FedtlError('FEDTL_ERR_TOO_MANY_CONNECTIONS', `expected at most ${o.maxClients} joined clients (--max-clients), got one more ("${join.clientId}")`);
    }
    const previous = this.registry.get(join.clientId);
    // Never evict: the transport waits for a dropped holder to be gone before it passes a rejoin on.
    if (previous && previous.link !== link) {
      throw new FedtlError('FEDTL_ERR_DUPLICATE_CLIENT', `expected a client id no live connection holds, got "${join.clientId}", which is joined on another connection`);
    }
    this.registry.add({ clientId: join.clientId, link, join, joinedAt: Date.now(), ...(tokenId ? { tokenId } : {}) });
    this.log.info('client joined', { clientId: join.clientId, ...(tokenId ? { tokenId } : {}), examples: join.numTrainExamples, clients: this.registry.size, ...(join.privacyPolicy ? { policy: describePolicy(join.privacyPolicy) } : {}) });
    if (join.numTestExamples === 0 && !this.warnedNoTestSplit.has(join.clientId)) {
      this.warnedNoTestSplit.add(join.clientId);
      this.log.warn('client has no test examples; it trains but is never asked to evaluate', { clientId: join.clientId });
    }
    this.emit('joined', join.clientId);
    this.resendPlanAfterRejoin(join.clientId, link);
    // The wait also ends when the budget is what keeps the round from running: the run stops instead of waiting.
    if (this.eligibleIds().length >= o.minAvailable || this.recordBudgetBlocks()) this.quorumWaiter?.();
    return {
      runId: o.runId,
      clientId: join.clientId,
      protocolVersion: PROTOCOL_VERSION,
      model: o.model,
      currentRound: this.collector ? this.collector.round : this.secagg ? this.secagg.round : this.completedRounds,
      ...(o.secureAggregation ? { secureAggregation: { protocol: SECAGG_FEATURE, minThreshold: this.minThreshold() } } : {}),
    };
  }

  /**
   * Who the Join's token says the client is: undefined for the shared token (or when nothing is required), the
   * token id for a per-client token issued to the client id the Join claims.
   * @throws FEDTL_ERR_UNAUTHORIZED for a wrong, revoked or another client's token (naming token ids, never secrets)
   */
  private authenticate(join: JoinRequest, check: TokenCheck | undefined): string | undefined {
    const o = this.options;
    if (o.token && secretsEqual(join.token, o.token)) return undefined;
    if (!o.clientTokens) {
      if (o.token) throw new FedtlError('FEDTL_ERR_UNAUTHORIZED', 'the join token does not match the federation token');
      return undefined;
    }
    if (check?.status === 'revoked' || (check?.status === 'valid' && !o.clientTokens.isActive(check.tokenId))) {
      throw new FedtlError('FEDTL_ERR_UNAUTHORIZED', `token ${check.tokenId} for client ${check.clientId} was revoked`);
    }
    if (check?.status !== 'valid') {
      throw new FedtlError('FEDTL_ERR_UNAUTHORIZED', `expected ${o.token ? 'the federation token or ' : ''}a valid per-client token in the join, got a missing or wrong one`);
    }
    if (check.clientId !== join.clientId) {
      throw new FedtlError('FEDTL_ERR_UNAUTHORIZED', `expected a join as "${check.clientId}", the client token ${check.tokenId} was issued to, got one as ${quoteUntrusted(join.clientId)}`);
    }
    return check.tokenId;
  }

  /**
   * Ends the session of the client that joined with token `tokenId`, if one did: it is told `message`
   * (FEDTL_ERR_UNAUTHORIZED) first, then disconnected. Its token no longer admits it, so a round it was selected
   * for does not wait --rejoin-grace-ms for it: it is out of the round at once, with that reason.
   */
  disconnectToken(tokenId: string, message: string): void {
    for (const clientId of this.registry.ids()) {
      const client = this.registry.get(clientId);
      if (client?.tokenId !== tokenId) continue;
      this.log.warn('disconnecting a client whose token is no longer valid', { clientId, tokenId });
      client.link.sendError({ code: 'FEDTL_ERR_UNAUTHORIZED', message });
      client.link.disconnect();
      this.collector?.fail(clientId, 'FEDTL_ERR_UNAUTHORIZED', message);
      this.secagg?.fail(clientId, 'FEDTL_ERR_UNAUTHORIZED', message);
      this.evaluation?.forget(clientId);
    }
  }

  /** Records a refused Join for operators (the status API and /metrics); the transport calls it. */
  noteRefusedJoin(clientId: string | undefined, error: ProtocolError): void {
    this.emit('joinRefused', clientId, error);
  }

  /**
   * Joined clients a round may select: all but those whose --max-rounds policy is used up (they would refuse the
   * plan, and their refusal would count against the quorum). Sorted, like ClientRegistry.ids().
   */
  private eligibleIds(): string[] {
    return this.withinRoundCaps().filter((id) => this.withinRecordBudget(id));
  }

  /** Joined clients whose --max-rounds policy is not used up. */
  private withinRoundCaps(): string[] {
    return this.registry.ids().filter((id) => {
      const cap = this.registry.get(id)?.join.privacyPolicy?.maxRounds ?? 0;
      return cap === 0 || (this.contributions.get(id) ?? 0) < cap;
    });
  }

  /**
   * Under record-level DP with a budget, whether one more round would keep this client's data within it: a client
   * whose data is spent is no longer selected, and the others go on (one organisation with few examples, or one
   * that declared few, must not stop the federation).
   */
  private withinRecordBudget(clientId: string): boolean {
    const dp = this.options.privacy;
    if (!dp?.budget || dp.mechanism.unit !== 'record') return true;
    const n = this.registry.get(clientId)?.join.numTrainExamples ?? 1;
    return !this.ledger.wouldExceed(dp.budget, roundEvents(this.completedRounds + 1, dp.mechanism, this.options.training, new Map([[clientId, n]])));
  }

  /** " (N more joined but at their --max-rounds policy or privacy budget)" when some are; '' otherwise. */
  private atRoundCapNote(): string {
    const capped = this.registry.size - this.withinRoundCaps().length;
    const spent = this.withinRoundCaps().length - this.eligibleIds().length;
    const notes = [...(capped > 0 ? [`${capped} more joined but at their --max-rounds policy`] : []), ...(spent > 0 ? [`${spent} more joined whose data's privacy budget is spent`] : [])];
    return notes.length > 0 ? ` (${notes.join('; ')})` : '';
  }

  /** Record-level DP with a budget: the clients joined within their --max-rounds whose data one more round would take over it. */
  private recordBudgetSpentIds(): string[] {
    const dp = this.options.privacy;
    if (!dp?.budget || dp.mechanism.unit !== 'record') return [];
    return this.withinRoundCaps().filter((id) => !this.withinRecordBudget(id));
  }

  /** Whether the clients whose data is spent are what keeps the run below --min-available. */
  private recordBudgetBlocks(): boolean {
    const spent = this.recordBudgetSpentIds();
    return spent.length > 0 && this.withinRoundCaps().length >= this.options.minAvailable && this.eligibleIds().length < this.options.minAvailable;
  }

  /**
   * Record-level DP: when the clients whose data is spent are what keeps the run below --min-available, the run
   * ends now with FEDTL_ERR_PRIVACY_BUDGET rather than wait for a quorum it cannot have; the message names the
   * budget, what is spent and what one more round would bring.
   */
  private stopIfRecordBudgetSpent(round: number): void {
    const dp = this.options.privacy;
    if (!dp?.budget || !this.recordBudgetBlocks()) return;
    const spent = this.recordBudgetSpentIds();
    const eligible = this.eligibleIds();
    const first = spent[0];
    const next = roundEvents(round, dp.mechanism, this.options.training, new Map([[first, this.registry.get(first)?.join.numTrainExamples ?? 1]]));
    const would = this.ledger.spent(dp.delta, next).find((s) => s.unit === 'record');
    const now = this.ledger.spent(dp.delta).find((s) => s.unit === 'record');
    throw new FedtlError(
      'FEDTL_ERR_PRIVACY_BUDGET',
      `round ${round} cannot run within the budget of ε = ${dp.budget.epsilon} at δ = ${dp.budget.delta} (--dp-epsilon, --dp-delta): one more round would take the data of ${spent.length} of the ${this.withinRoundCaps().length} joined clients over it (${spent.slice(0, 5).join(', ')}${spent.length > 5 ? ', …' : ''}; "${first}" to ${would ? describeSpend(would) : 'more than the budget'}), leaving ${eligible.length}, fewer than --min-available ${this.options.minAvailable}; spent so far: ${now ? describeSpend(now) : 'nothing'}. The run stops at round ${round - 1}`,
    );
  }

  /** Tells each client whose data's budget is spent, once, that it is no longer selected (it would otherwise idle unaware). */
  private noticeBudgetExclusions(round: number): void {
    for (const clientId of this.recordBudgetSpentIds()) {
      if (this.toldBudgetSpent.has(clientId)) continue;
      this.toldBudgetSpent.add(clientId);
      this.log.warn('not selecting a client any more: one more round would take its data over the privacy budget', { round, clientId });
      this.registry.get(clientId)?.link.sendError({
        code: 'FEDTL_ERR_PRIVACY_BUDGET',
        message: `from round ${round} on, not selected: one more round would take your data over this run's privacy budget (--dp-epsilon ${this.options.privacy?.budget?.epsilon} at δ = ${this.options.privacy?.budget?.delta})`,
      });
    }
  }

  /** The smallest threshold a round of this run can have: the configured t, or the default for minAvailable. */
  private minThreshold(): number {
    const t = this.options.secureAggregation?.threshold ?? 0;
    return t > 0 ? t : defaultThreshold(this.options.minAvailable);
  }

  /**
   * Refuses a client that cannot take part in this run's privacy terms: one without secure aggregation when the
   * run uses it, and one whose stated policy the run can never meet (the client would refuse every plan; refusing
   * it here tells its operator, and ours, why it stays out).
   */
  private checkPrivacyTerms(join: JoinRequest): void {
    const missing = (this.options.strategy.requiredClientFeatures ?? []).filter((feature) => !(join.features ?? []).includes(feature));
    if (missing.length > 0) {
      throw new FedtlError(
        'FEDTL_ERR_FEATURE_UNSUPPORTED',
        `this run's plans (--strategy ${this.options.strategy.name}) need the local training rule ${missing.join(', ')}; expected a client whose Join lists it, got ${quoteUntrusted(JSON.stringify(join.features ?? []))}: upgrade the client`,
      );
    }
    if (this.options.model.lora && !(join.features ?? []).includes(LORA_FEATURE)) {
      throw new FedtlError(
        'FEDTL_ERR_FEATURE_UNSUPPORTED',
        `this run trains LoRA inside the use-lite encoder (${LORA_FEATURE}); expected a client whose Join lists it, got ${quoteUntrusted(JSON.stringify(join.features ?? []))}: upgrade the client`,
      );
    }
    const dp = this.options.privacy?.mechanism;
    const dpFeature = dp ? (dp.unit === 'record' ? DP_SGD_FEATURE : DP_FEDAVG_FEATURE) : undefined;
    if (dpFeature && !(join.features ?? []).includes(dpFeature)) {
      throw new FedtlError(
        'FEDTL_ERR_FEATURE_UNSUPPORTED',
        `this run's plans ask for ${dp?.unit === 'record' ? 'record-level DP-SGD' : 'client-level DP-FedAvg clipping'} (${dpFeature}); expected a client whose Join lists it, got ${quoteUntrusted(JSON.stringify(join.features ?? []))}: upgrade the client`,
      );
    }
    const secagg = this.options.secureAggregation;
    if (secagg && !(join.features ?? []).includes(SECAGG_FEATURE)) {
      throw new FedtlError(
        'FEDTL_ERR_SECAGG_UNSUPPORTED',
        `this run uses secure aggregation (${SECAGG_FEATURE}); expected a client whose Join lists the feature "${SECAGG_FEATURE}", got ${quoteUntrusted(JSON.stringify(join.features ?? []))}: upgrade the client`,
      );
    }
    const policy = join.privacyPolicy;
    if (!policy) return;
    if (policyRequiresSecureAggregation(policy) && !secagg) {
      throw new FedtlError(
        'FEDTL_ERR_POLICY_REFUSED',
        `client "${join.clientId}" accepts only rounds under secure aggregation (its policy: ${describePolicy(policy)}); this run sends updates in the clear (start the coordinator with --secure-aggregation)`,
      );
    }
    const batchSize = this.options.training.batchSize;
    if (policy.minBatchSize > batchSize) {
      throw new FedtlError(
        'FEDTL_ERR_POLICY_REFUSED',
        `client "${join.clientId}" accepts plans with a batch size of at least ${policy.minBatchSize} (--min-batch-size); this run's batch size is ${batchSize} (--batch-size), so it would refuse every round`,
      );
    }
    if (policy.minExamples > join.numTrainExamples) {
      throw new FedtlError(
        'FEDTL_ERR_POLICY_REFUSED',
        `client "${join.clientId}" sends updates computed from at least ${policy.minExamples} examples (--min-examples) but declared ${join.numTrainExamples}, so it would refuse every round`,
      );
    }
    if (policy.minOtherContributors + 1 > this.options.maxClients) {
      throw new FedtlError(
        'FEDTL_ERR_POLICY_REFUSED',
        `client "${join.clientId}" needs its update summed with at least ${policy.minOtherContributors} others; this run admits at most ${this.options.maxClients} clients (--max-clients)`,
      );
    }
    if (secagg && secagg.threshold > 0 && secagg.threshold - 1 < policy.minOtherContributors) {
      throw new FedtlError(
        'FEDTL_ERR_POLICY_REFUSED',
        `client "${join.clientId}" needs its update summed with at least ${policy.minOtherContributors} others (threshold >= ${policy.minOtherContributors + 1}); this run's --secagg-threshold is ${secagg.threshold}`,
      );
    }
  }

  handleLeave(clientId: string, link: ClientLink): void {
    if (!this.registry.remove(clientId, link)) return;
    this.log.info('client left', { clientId, clients: this.registry.size });
    this.emit('left', clientId);
    this.evaluation?.forget(clientId);
    // Under secure aggregation a client that drops is out of the attempt at once: its keys live in its process.
    this.secagg?.fail(clientId, 'FEDTL_ERR_ROUND_TIMEOUT', `client "${clientId}" disconnected during round ${this.secagg.round}'s secure aggregation`);
    const collector = this.collector;
    if (collector?.selected.has(clientId)) {
      const timer = setTimeout(() => {
        this.graceTimers.delete(clientId);
        collector.fail(clientId, 'FEDTL_ERR_ROUND_TIMEOUT', `client "${clientId}" disconnected during round ${collector.round} and did not rejoin in time`);
      }, this.options.rejoinGraceMs);
      timer.unref?.();
      this.graceTimers.set(clientId, timer);
    }
  }

  /** Accepts an update or throws a FedtlError for the sender's acknowledgement. */
  async handleUpdate(senderId: string, update: Update): Promise<void> {
    if (this.secagg) {
      const error = new FedtlError('FEDTL_ERR_SECAGG_VIOLATION', `round ${this.secagg.round} runs under secure aggregation: expected a MaskedInput, got an Update in the clear (refused unread)`);
      this.secagg.fail(senderId, error.code, error.message);
      throw error;
    }
    if (!this.collector) {
      // A closed round refuses every update; asking it gives a repeat of an accepted one its precise code.
      this.previousCollector?.accept(senderId, update);
      throw new FedtlError('FEDTL_ERR_WRONG_ROUND', `expected no update (no round in progress; ${this.completedRounds} completed), got one for round ${update.round}`);
    }
    const aggregated = this.collector.accept(senderId, update);
    this.emit('progress');
    try {
      await this.options.onAcceptedUpdate?.(aggregated);
    } catch (err) {
      // The update is in the aggregate already; its sender must hear "accepted", not a refusal.
      this.log.error('could not record an accepted update', { clientId: senderId, round: update.round, error: (err as Error).message });
    }
  }

  /** A selected client whose message could not be decoded, or that reported it cannot train: out of the round. */
  handleBadMessage(senderId: string, code: ErrorCode, message: string): void {
    this.collector?.fail(senderId, code, message);
    this.secagg?.fail(senderId, code, message);
  }

  /** A secure-aggregation message from `senderId` (already decoded); throws a FedtlError for its ack. */
  handleSecAggMessage(senderId: string, message: SecAggMessage): void {
    const secagg = this.secagg;
    if (!secagg) {
      throw new FedtlError('FEDTL_ERR_WRONG_ROUND', `expected no secure-aggregation message (no such round in progress; ${this.completedRounds} completed), got one for round ${message.body.round}`);
    }
    switch (message.kind) {
      case 'advertise':
        return secagg.handleAdvertise(senderId, message.body);
      case 'shares':
        return secagg.handleShares(senderId, message.body);
      case 'masked-input':
        return secagg.handleMaskedInput(senderId, message.body);
      case 'unmask-shares':
        return secagg.handleUnmaskShares(senderId, message.body);
    }
  }

  /** A client that could not evaluate (it said so): the round's evaluation stops waiting for it. */
  handleEvaluateFailed(senderId: string, error: ProtocolError): void {
    this.log.warn('a client could not evaluate', { clientId: senderId, ...(this.evaluation ? { round: this.evaluation.round } : {}), code: error.code, error: error.message });
    this.evaluation?.forget(senderId);
  }

  /** A report from `senderId` that could not be decoded: its answer for this evaluation, which stops waiting for it. */
  handleBadReport(senderId: string): void {
    this.evaluation?.forget(senderId);
  }

  handleEvaluateReport(senderId: string, report: EvaluateReport): void {
    if (!this.evaluation) {
      throw new FedtlError('FEDTL_ERR_WRONG_ROUND', `expected no evaluation report (none requested), got one for round ${report.round}`);
    }
    this.evaluation.accept(senderId, report);
  }

  /** Runs rounds until the configured number is reached; resolves with the final weights. */
  async run(): Promise<RunSummary> {
    const o = this.options;
    while (this.completedRounds < o.rounds && !this.stopped) {
      const round = this.completedRounds + 1;
      for (let attempt = 1; ; attempt++) {
        // Gathering the federation before its first round may take as long as it takes; once rounds have run, a
        // federation too small to go on must not keep its clients waiting for ever: the wait is an attempt.
        this.stopIfRecordBudgetSpent(round);
        const gathered = await this.waitForQuorum(this.attemptsStarted > 0 ? o.roundTimeoutMs : undefined);
        if (this.stopped) break;
        this.stopIfRecordBudgetSpent(round);
        if (gathered && (await this.runRound(round, attempt))) break;
        if (!gathered) await this.recordTooFewClients(round, attempt);
        if (this.stopped) break;
        if (attempt >= o.maxRoundAttempts) {
          const why = gathered
            ? `missed its quorum of ${o.minClients} updates`
            : `found only ${this.eligibleIds().length} of the ${o.minAvailable} clients it needs connected${this.atRoundCapNote()} within --round-timeout-ms (${o.roundTimeoutMs} ms)`;
          const leftOut = gathered && this.lastFailures.length > 0 ? `; left out of the last attempt: ${describeFailures(this.lastFailures)}` : '';
          throw new FedtlError('FEDTL_ERR_QUORUM_NOT_MET', `round ${round} ${why} on attempt ${attempt} of ${o.maxRoundAttempts}${leftOut}; giving up`);
        }
        await this.waitBeforeRetry(round, attempt);
      }
    }
    this.enterPhase(this.stopped ? 'stopped' : 'finished');
    return { runId: o.runId, roundsCompleted: this.completedRounds, resumedFrom: this.resumedFrom, weights: this.global, lastEvaluation: this.lastEvaluation };
  }

  /** Stops waiting; the current round is abandoned (it will be re-run after a restart). */
  stop(): void {
    this.stopped = true;
    this.enterPhase('stopped');
    this.quorumWaiter?.();
    this.retryWaiter?.();
    this.collector?.selected.forEach((id) => this.collector?.fail(id, 'FEDTL_ERR_INTERNAL', 'the coordinator is shutting down'));
    this.secagg?.stop();
    this.evaluation?.close();
    for (const timer of this.graceTimers.values()) clearTimeout(timer);
  }

  private waitBeforeRetry(round: number, attempt: number): Promise<void> {
    const delayMs = roundRetryDelay(this.options.roundRetryDelayMs, attempt);
    this.log.info('retrying the round after a pause', { round, nextAttempt: attempt + 1, delayMs });
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.retryWaiter?.(), delayMs);
      this.retryWaiter = () => {
        clearTimeout(timer);
        this.retryWaiter = undefined;
        resolve();
      };
    });
  }

  /**
   * Resolves true once minAvailable clients are joined (or the coordinator stops), false when `deadlineMs`
   * passes first; without a deadline it waits for as long as it takes.
   */
  private waitForQuorum(deadlineMs?: number): Promise<boolean> {
    const eligible = this.eligibleIds().length;
    if (eligible >= this.options.minAvailable || this.stopped || this.recordBudgetBlocks()) return Promise.resolve(true);
    this.enterPhase('waiting for clients', deadlineMs);
    const exhausted = this.registry.size - eligible;
    this.log.info('waiting for clients', { joined: this.registry.size, needed: this.options.minAvailable, ...(exhausted > 0 ? { atTheirRoundCap: exhausted } : {}), ...(deadlineMs !== undefined ? { deadlineMs } : {}) });
    return new Promise((resolve) => {
      const timer = deadlineMs === undefined ? undefined : setTimeout(() => finish(false), deadlineMs);
      timer?.unref?.();
      const finish = (gathered: boolean) => {
        clearTimeout(timer);
        this.quorumWaiter = undefined;
        resolve(gathered);
      };
      this.quorumWaiter = () => finish(true);
    });
  }

  /** An attempt that could not start: too few clients stayed connected. Recorded like a round that failed. */
  private async recordTooFewClients(round: number, attempt: number): Promise<void> {
    const o = this.options;
    this.log.warn('round failed: too few clients connected to start it', { round, attempt, joined: this.registry.size, eligible: this.eligibleIds().length, needed: o.minAvailable });
    const record: RoundRecord = {
      runId: o.runId, round, attempt, status: 'failed', selected: [], accepted: [], failures: [], train: {}, evaluation: {}, clients: {},
      bytesUp: 0, bytesDown: 0, updateBytesUp: 0, seconds: o.roundTimeoutMs / 1000, finishedAt: new Date().toISOString(),
    };
    await o.metricsLog.append(record);
    this.emit('round', record);
  }

  /** One attempt at a round; false when it missed its quorum and must be retried. */
  private async runRound(round: number, attempt: number): Promise<boolean> {
    const o = this.options;
    this.attemptsStarted++;
    const started = Date.now();
    const traffic = o.traffic.snapshot();
    const rng = seededRandom(deriveSeed(o.seed, 'sample', round, attempt));
    const dp = o.privacy;
    this.noticeBudgetExclusions(round);
    const eligible = this.eligibleIds();
    // The quorum wait guarantees minClients; a strategy that still wants more gets an empty, failed attempt. Under
    // client-level DP the round is a Poisson sample instead, the sampling the accountant credits.
    const plan = dp?.mechanism.unit === 'client'
      ? { clients: poissonSample(eligible, dp.mechanism.samplingRate), config: {} }
      : (o.strategy.configureRound(round, eligible, rng) ?? { clients: [], config: {} });
    // One plan for all: each client derives its own shuffling seed from the round's seed and its id.
    const config: TrainingConfig = { ...o.training, ...plan.config, ...(dp ? planTerms(dp.mechanism) : {}), seed: deriveSeed(o.seed, 'train', round) };
    const events = dp ? roundEvents(round, dp.mechanism, config, new Map(plan.clients.map((id) => [id, this.registry.get(id)?.join.numTrainExamples ?? 1]))) : [];
    // Refused before any plan leaves: the run stops with the weights of the last round within the budget.
    if (dp) checkRoundBudget(round, this.ledger, dp, events);
    const inner = o.strategy.beginRound(round, this.global);
    const aggregator = dp?.mechanism.unit === 'client'
      ? new DpFedAvgAggregator(inner, {
          clipNorm: dp.mechanism.clipNorm,
          // Under secure aggregation the clients add the noise (collectSecurely); in the clear the coordinator does.
          noiseStddev: o.secureAggregation ? 0 : dp.mechanism.noiseMultiplier * dp.mechanism.clipNorm,
          expectedClients: Math.max(dp.mechanism.samplingRate * eligible.length, Number.MIN_VALUE),
        })
      : inner;
    this.planResends.clear();
    this.activeRound = round;
    this.enterPhase('training', o.roundTimeoutMs);
    // Record-level DP is spent when a client releases its update, whether or not the round then meets its quorum:
    // charged for every selected client as the plans go out (an upper bound: a client that never trained spent nothing).
    const recordEvents = events.filter((event) => event.unit === 'record');
    if (recordEvents.length > 0) await this.charge(recordEvents);
    const outcome = o.secureAggregation
      ? await this.collectSecurely(round, attempt, plan, config, aggregator)
      : await this.collectInTheClear(round, attempt, plan, config, aggregator);
    // Client-level DP is spent when an aggregate is released: only by a round that aggregated.
    if (outcome.result && dp?.mechanism.unit === 'client' && !this.stopped) await this.charge(events);
    const refunded = recordEvents.length > 0 ? await this.refundRefusals(round, outcome.failures) : new Set<string>();
    const charged = outcome.result || recordEvents.length > 0 ? events.filter((event) => event.subject === undefined || !refunded.has(event.subject)) : [];
    const privacy = dp ? { privacy: { events: charged, spent: this.ledger.spent(dp.delta) } } : {};
    this.currentPlan = undefined;
    for (const timer of this.graceTimers.values()) clearTimeout(timer);
    this.graceTimers.clear();
    if (this.stopped) {
      // Abandoned, not failed: no record, no checkpoint; a restart runs this round again from the last one.
      this.log.info('round abandoned: the coordinator is stopping', { round, attempt });
      this.activeRound = undefined;
      return false;
    }
    this.lastFailures = outcome.failures;
    this.notifyLeftOut(round, outcome.failures);
    this.benchSilentClients(plan.clients, outcome.failures);
    const result = outcome.result;
    // Failure messages may quote what a client sent; what is stored (metrics.jsonl, /api/status) stays bounded.
    const failures = outcome.failures.map((failure) => ({ ...failure, message: boundText(failure.message, FAILURE_MESSAGE_CHARS) }));
    const bounded = Object.keys(outcome.bounded).length > 0 ? { bounded: outcome.bounded } : {};
    const base = { runId: o.runId, round, attempt, selected: plan.clients, accepted: outcome.accepted, failures, ...bounded, ...privacy };
    for (const [clientId, change] of Object.entries(outcome.bounded)) {
      if (change.clipFactor !== undefined) this.log.warn('update clipped to the norm bound', { round, clientId, norm: change.norm, factor: change.clipFactor });
    }
    if (result) this.checkFinite(round, result);
    if (!result) {
      this.activeRound = undefined;
      const record: RoundRecord = { ...base, status: 'failed', train: {}, evaluation: {}, clients: {}, ...o.traffic.since(traffic), seconds: (Date.now() - started) / 1000, finishedAt: new Date().toISOString() };
      await o.metricsLog.append(record);
      this.emit('round', record);
      this.stopIfDiverged(round, plan.clients.length, outcome.failures);
      this.log.warn('round failed: too few updates; it will be retried', { round, attempt, accepted: outcome.accepted.length, needed: o.minClients });
      return false;
    }
    // Counted as completed only once its checkpoint is on disk: a failed write leaves the run at the last round
    // that a restart would resume from, and the verdict says so.
    await o.store.save({
      runId: o.runId,
      round,
      configHash: o.configHash,
      weights: result.weights,
      strategyState: o.strategy.state(),
      createdAt: new Date().toISOString(),
      model: o.model,
      backbone: o.backbone,
      // How the clients trained these weights: a newcomer adapting them (--adapt-only) reads Per-FedAvg's α here.
      training: { ...config, strategy: o.strategy.name },
      ...(dp ? { privacy: this.ledger.toJSON() } : {}),
    });
    this.global = result.weights;
    this.completedRounds = round;
    for (const clientId of outcome.accepted) this.contributions.set(clientId, (this.contributions.get(clientId) ?? 0) + 1);
    const reports = await this.evaluate(round);
    this.lastEvaluation = o.strategy.aggregateEvaluation(round, reports) ?? {};
    const record: RoundRecord = {
      ...base,
      status: 'aggregated',
      train: result.metrics,
      evaluation: this.lastEvaluation,
      clients: Object.fromEntries(reports.map((r) => [r.clientId, { ...r.metrics, numExamples: r.numExamples }])),
      ...o.traffic.since(traffic),
      seconds: (Date.now() - started) / 1000,
      finishedAt: new Date().toISOString(),
    };
    this.activeRound = undefined;
    await o.metricsLog.append(record);
    this.log.info('round aggregated', { round, accepted: outcome.accepted.length, failed: outcome.failures.length, accuracy: this.lastEvaluation.accuracy, ...(dp ? { privacy: this.ledger.spent(dp.delta).map(describeSpend).join('; ') } : {}) });
    this.emit('round', record);
    return true;
  }

  /**
   * Record-level: a client that refused the plan before training (its own policy or privacy budget) released
   * nothing, so the charge made for it as the plans went out is taken back (this attempt's only). Returns whose.
   */
  private async refundRefusals(round: number, failures: readonly ClientFailure[]): Promise<Set<string>> {
    const refused = new Set(failures.filter((f) => f.code === 'FEDTL_ERR_POLICY_REFUSED' || f.code === 'FEDTL_ERR_PRIVACY_BUDGET').map((f) => f.clientId));
    if (refused.size === 0) return refused;
    const kept = [...this.ledger.events];
    for (const clientId of refused) {
      for (let i = kept.length - 1; i >= 0; i--) {
        if (kept[i].round === round && kept[i].unit === 'record' && kept[i].subject === clientId) {
          kept.splice(i, 1);
          break;
        }
      }
    }
    this.ledger = new PrivacyLedger(kept);
    await this.options.privacy?.persist?.(this.ledger.toJSON());
    this.log.info('privacy charge taken back: these clients refused the plan before training', { round, clients: [...refused].sort() });
    return refused;
  }

  /** Records `events` in the ledger and stores it before anything they pay for is released. */
  private async charge(events: PrivacyEvent[]): Promise<void> {
    this.ledger.record(...events);
    await this.options.privacy?.persist?.(this.ledger.toJSON());
  }

  /** Plans in the clear, updates validated, bounded and aggregated one by one as they arrive (RoundCollector). */
  private async collectInTheClear(round: number, attempt: number, plan: RoundConfiguration, config: TrainingConfig, aggregator: RoundAggregator): Promise<CollectedRound> {
    const o = this.options;
    const declared = plan.clients.map((id) => this.registry.get(id)?.join.numTrainExamples ?? 0).filter((n) => n > 0);
    const caps = declared.length > 0 ? weightCaps(declared, o.limits.maxClientShare) : { level: Infinity, share: 1 };
    if (caps.level !== Infinity) this.log.info('share cap binds: weights above the level are lowered to it', { round, level: caps.level, share: caps.share });
    const collector = new RoundCollector(
      o.runId,
      round,
      new Set(plan.clients),
      this.expectedTensors,
      aggregator,
      (clientId) => this.registry.get(clientId)?.join.numTrainExamples ?? 0,
      o.roundTimeoutMs,
      { norm: o.limits.updateNorm, caps },
    );
    this.collector = collector;
    this.currentPlan = encodeRoundPlan({ runId: o.runId, round, weights: this.global, config });
    this.log.info('round started', { round, attempt, clients: plan.clients });
    for (const clientId of plan.clients) this.sendPlan(clientId, this.currentPlan, (code, message) => collector.fail(clientId, code, message));
    const outcome = await collector.done();
    this.collector = undefined;
    this.previousCollector = collector;
    const result = !this.stopped && outcome.accepted.length >= o.minClients ? aggregator.finish(outcome.failures) : null;
    return { ...outcome, result };
  }

  /**
   * The same round under secure aggregation: the plan carries the attempt's SecAggParams, the clients' masked
   * inputs are summed and only the sum is unmasked (SecureAggregationRound). The decoded weighted mean enters
   * the strategy as one update carrying the survivors' total weight, so FedAvg, FedAvgM and FedAdam act on
   * exactly the mean they would have computed from the individual updates (to the fixed-point step).
   */
  private async collectSecurely(round: number, attempt: number, plan: RoundConfiguration, config: TrainingConfig, aggregator: RoundAggregator): Promise<CollectedRound> {
    const o = this.options;
    const secure = o.secureAggregation as NonNullable<CoordinatorOptions['secureAggregation']>;
    const leftOut = (code: ErrorCode, message: string): CollectedRound => ({
      accepted: [],
      failures: plan.clients.map((clientId) => ({ clientId, code, message })),
      bounded: {},
      result: null,
    });
    const clientDp = o.privacy?.mechanism.unit === 'client' ? o.privacy.mechanism : undefined;
    // DP-FedAvg weighs every client 1 (PROTOCOL §7.1): the clients mask with weight 1.
    const declared = new Map(plan.clients.map((id) => [id, clientDp ? 1 : (this.registry.get(id)?.join.numTrainExamples ?? 1)]));
    let params;
    try {
      params = secAggParamsFor({
        attempt,
        declaredExamples: plan.clients.map((id) => declared.get(id) as number),
        threshold: secure.threshold,
        // Stated policies raise t where the round can meet them: a client never has to refuse a round it could join.
        policyThreshold: Math.max(0, ...plan.clients.map((id) => (this.registry.get(id)?.join.privacyPolicy?.minOtherContributors ?? 0) + 1)),
        maxClientShare: clientDp ? 1 : o.limits.maxClientShare,
        maxUpdateNorm: o.limits.updateNorm.maxNorm,
      });
      if (clientDp) params = withClientNoise(params, clientDp.clipNorm, clientDp.noiseMultiplier, this.global);
    } catch (err) {
      const error = toFedtlError(err);
      this.log.warn('round cannot run under secure aggregation', { round, attempt, code: error.code, error: error.message });
      return leftOut(error.code, error.message);
    }
    // Each client's share of the sum's noise: any t survivors together carry N(0, z²S²) (PROTOCOL §7.1).
    const planConfig = clientDp ? { ...config, updateNoiseStddev: (clientDp.noiseMultiplier * clientDp.clipNorm) / Math.sqrt(params.threshold) } : config;
    const encodedPlan = encodeRoundPlan({ runId: o.runId, round, weights: this.global, config: planConfig, secureAggregation: params });
    const secagg = new SecureAggregationRound({
      context: { runId: o.runId, round, session: planSession(encodedPlan) },
      params,
      selected: plan.clients,
      tensorSizes: this.global.map((t) => t.data.length),
      send: (clientId, event, payload) => {
        const client = this.registry.get(clientId);
        if (!client) return Promise.reject(new FedtlError('FEDTL_ERR_ROUND_TIMEOUT', `client "${clientId}" is not connected`));
        return client.link.sendSecAgg(event, payload);
      },
      phaseTimeoutMs: secure.phaseTimeoutMs,
      inputDeadlineMs: o.roundTimeoutMs,
      minInputs: o.minClients,
      declaredExamples: declared,
    });
    this.secagg = secagg;
    this.log.info('round started under secure aggregation', { round, attempt, clients: plan.clients, threshold: params.threshold, fractionalBits: params.fractionalBits });
    const configured = secure.threshold > 0 ? secure.threshold : defaultThreshold(plan.clients.length);
    if (params.threshold > configured) {
      const askers = plan.clients.filter((id) => (this.registry.get(id)?.join.privacyPolicy?.minOtherContributors ?? 0) + 1 === params.threshold);
      this.log.info('threshold raised to what client policies ask (--min-other-contributors)', { round, from: configured, to: params.threshold, by: askers, dropoutsTolerated: plan.clients.length - params.threshold });
    }
    // Below 16 bits the step (> 1.5e-5) is near the size of a typical weight change: say so, with what to change.
    if (params.fractionalBits < 16) {
      this.log.warn('coarse fixed point: lower --max-update-norm or the clients per round', { round, step: 2 ** -params.fractionalBits, clip: params.clip, clients: plan.clients.length });
    }
    // The plan is not re-sent to a client that rejoins: its keys for this attempt died with its connection.
    for (const clientId of plan.clients) this.sendPlan(clientId, encodedPlan, (code, message) => secagg.fail(clientId, code, message));
    const outcome = await secagg.run();
    this.secagg = undefined;
    const failures = outcome.failures.filter((failure) => !outcome.survivors.includes(failure.clientId));
    if (outcome.error) {
      this.log.warn('secure aggregation failed', { round, attempt, code: outcome.error.code, error: outcome.error.message });
      // Everyone selected is left out of a failed attempt; the ones that did their part hear why.
      const failed = new Set(failures.map((f) => f.clientId));
      for (const clientId of plan.clients) if (!failed.has(clientId)) failures.push({ clientId, code: outcome.error.code, message: outcome.error.message });
    }
    if (!outcome.aggregate || this.stopped) return { accepted: [], failures, bounded: {}, result: null };
    const { meanDeltas, totalWeight } = outcome.aggregate;
    // Under differential privacy clients withhold their training metrics (computed without noise): the slots sum
    // to zeros that would read as a loss of 0.
    const metrics = o.privacy ? {} : outcome.aggregate.metrics;
    const meanDelta = this.global.map((t, i) => ({ name: t.name, shape: t.shape, dtype: 'float32' as const, data: meanDeltas[i] }));
    if (aggregator instanceof DpFedAvgAggregator) {
      // Weights 1: the mean times the survivors is the noisy sum of their clipped updates.
      for (const tensor of meanDelta) for (let i = 0; i < tensor.data.length; i++) tensor.data[i] *= totalWeight;
      aggregator.addSum(meanDelta, outcome.survivors.length, metrics);
    } else {
      aggregator.add({ clientId: `secure-aggregate of ${outcome.survivors.length}`, delta: meanDelta, numExamples: Math.max(1, Math.round(totalWeight)), metrics });
    }
    const result = aggregator.finish(failures);
    if (result) result.metrics.numClients = outcome.survivors.length;
    return { accepted: outcome.survivors, failures, bounded: {}, result };
  }

  /** A non-finite aggregate or server state is divergence: the run stops before anything is checkpointed. */
  private checkFinite(round: number, result: AggregateResult): void {
    const state = this.options.strategy.state();
    const bad =
      firstNonFinite(result.weights) ??
      Object.values(state.tensors).map((tensors) => firstNonFinite(tensors)).find(Boolean) ??
      Object.entries(state.scalars).filter(([, value]) => !Number.isFinite(value)).map(([key, value]) => ({ tensor: `scalar ${key}`, index: 0, value }))[0];
    if (bad) {
      throw divergedError(`round ${round}'s aggregate holds ${bad.value} in '${bad.tensor}' at index ${bad.index}; it was not checkpointed`, this.options.training);
    }
  }

  /**
   * A round whose clients report divergence stops the run rather than retrying it: the retry repeats the same
   * seeded training. One client claiming it must not stop an honest run, so it takes more than half of the
   * round's selected clients (and the round must have missed its quorum, which the caller checked).
   */
  private stopIfDiverged(round: number, selected: number, failures: readonly ClientFailure[]): void {
    const diverged = failures.filter((failure) => failure.code === 'FEDTL_ERR_DIVERGED');
    if (diverged.length * 2 <= selected) return;
    throw divergedError(
      `${diverged.length} of round ${round}'s ${selected} selected clients (${diverged.map((f) => f.clientId).sort().join(', ')}) report that local training diverged`,
      this.options.training,
    );
  }

  private sendPlan(clientId: string, encodedPlan: Uint8Array, fail: (code: ErrorCode, message: string) => void): void {
    const client = this.registry.get(clientId);
    if (!client) {
      fail('FEDTL_ERR_ROUND_TIMEOUT', `client "${clientId}" left before its plan was sent`);
      return;
    }
    client.link.sendRoundPlan(encodedPlan).catch((err) => {
      const error = toFedtlError(err);
      // A client that dropped has its rejoin grace period; only a live client that refused is failed now.
      if (this.registry.get(clientId)?.link === client.link) fail(error.code, error.message);
    });
  }

  private resendPlanAfterRejoin(clientId: string, link: ClientLink): void {
    const timer = this.graceTimers.get(clientId);
    if (timer) {
      clearTimeout(timer);
      this.graceTimers.delete(clientId);
    }
    const collector = this.collector;
    const plan = this.currentPlan;
    if (collector && plan && collector.isPending(clientId)) {
      const resends = (this.planResends.get(clientId) ?? 0) + 1;
      this.planResends.set(clientId, resends);
      if (resends > this.options.maxPlanResends) {
        this.log.warn('not re-sending the round: this client had it re-sent too often', { clientId, round: collector.round, resends: resends - 1 });
        link.sendError({ code: 'FEDTL_ERR_RATE_LIMITED', message: `expected at most ${this.options.maxPlanResends} re-sends of round ${collector.round} (--max-plan-resends), got a request for one more; wait for the next round` });
        return;
      }
      this.log.info('sending the current round to a rejoined client', { clientId, round: collector.round });
      link.sendRoundPlan(plan).catch((err) => {
        const error = toFedtlError(err);
        // Only if this link is still the client's: a newer connection may be training already.
        if (this.registry.get(clientId)?.link === link) collector.fail(clientId, error.code, error.message);
      });
    }
  }

  /**
   * Counts selections a client let pass without any answer (its failure is the round deadline's); at
   * maxMissedRounds in a row it is told, disconnected and refused for the rest of the run, so joined-but-silent
   * ids cannot make every round wait out its deadline. Any answer (an update, even a refused one, or a failure
   * report) resets the count.
   */
  private benchSilentClients(selected: readonly string[], failures: readonly ClientFailure[]): void {
    const silent = new Set(failures.filter((f) => f.code === 'FEDTL_ERR_ROUND_TIMEOUT').map((f) => f.clientId));
    for (const clientId of selected) {
      if (!silent.has(clientId)) {
        this.missedRounds.delete(clientId);
        continue;
      }
      const missed = (this.missedRounds.get(clientId) ?? 0) + 1;
      this.missedRounds.set(clientId, missed);
      if (missed < this.options.maxMissedRounds) continue;
      this.benched.add(clientId);
      this.log.warn('disconnecting a client that let its rounds pass without an answer', { clientId, missed });
      const client = this.registry.get(clientId);
      client?.link.sendError({ code: 'FEDTL_ERR_ROUND_TIMEOUT', message: `no answer in ${missed} rounds in a row (--max-missed-rounds ${this.options.maxMissedRounds}); out of this run` });
      client?.link.disconnect();
    }
  }

  /** Tells each connected client that was left out of the round why (a refused update already heard it). */
  private notifyLeftOut(round: number, failures: readonly ClientFailure[]): void {
    for (const failure of failures) {
      this.registry.get(failure.clientId)?.link.sendError({ code: failure.code, message: `left out of round ${round}: ${failure.message}` });
    }
  }

  private async evaluate(round: number): Promise<EvaluateReport[]> {
    this.enterPhase('evaluating', this.options.evalTimeoutMs);
    const rng = seededRandom(deriveSeed(this.options.seed, 'evaluate', round));
    // A client without test examples could never report: asking it would make every round wait out the deadline.
    const canEvaluate = this.registry.ids().filter((id) => (this.registry.get(id)?.join.numTestExamples ?? 0) > 0);
    const clients = this.options.strategy.configureEvaluation(round, canEvaluate, rng);
    const evaluation = new EvaluationCollector(this.options.runId, round, clients, this.options.evalTimeoutMs, (clientId) => ({
      labels: this.options.model.labels,
      declaredTestExamples: this.registry.get(clientId)?.join.numTestExamples ?? 0,
    }));
    this.evaluation = evaluation;
    const request = encodeEvaluateRequest({ runId: this.options.runId, round, weights: this.global });
    for (const clientId of clients) {
      this.registry
        .get(clientId)
        ?.link.sendEvaluateRequest(request)
        .catch(() => evaluation.forget(clientId));
    }
    const reports = await evaluation.done();
    this.evaluation = undefined;
    return reports;
  }
}
