// The coordinator's configuration: its options (coordinator-options.ts, one declaration each, merged from flags,
// FEDTL_* environment variables, a --config file and defaults) turned into the plain values everything below
// receives, with the checks that involve several options at once.
import { existsSync } from 'node:fs';
import { normalizeLabel, readSecretFile, readUserTextSync } from '@fedtl/data';
import { configError, tokenWeakness, type LogFormat, type LogLevel } from '@fedtl/util';
import { flagName, isSetExplicitly, parseCommandLine, preferredOf, type ResolvedOptions } from '@fedtl/util/options';
import { LORA_DETAIL_KEYS, loraSpecOf } from '@fedtl/model';
import { formatUpdateCompression, parseUpdateCompression, type LoraSpec, type ModelSpec, type TrainingConfig, type UpdateCompression } from '@fedtl/protocol';
import { chooseFractionalBits } from '@fedtl/privacy';
import { fewestForKrum, fewestForTrimFraction } from '@fedtl/strategies';
import { tokenStorePath } from './credentials/token-store';
import { COORDINATOR_OPTIONS, STRATEGY_NAMES, type StrategyName } from './coordinator-options';
import type { NormAction } from './norm-bound';

export { STRATEGY_NAMES, type StrategyName } from './coordinator-options';
/** The robust strategies: they must see each client's update, so they cannot run under secure aggregation. */
export const ROBUST_STRATEGY_NAMES: readonly StrategyName[] = ['median', 'trimmed-mean', 'krum', 'multikrum'];

export interface CoordinatorConfig {
  host: string;
  port: number;
  /** Rounds to run in total (a resumed run continues up to this number). */
  rounds: number;
  /** Quorum: the fewest updates that make a round (fewer and the round is retried). */
  minClients: number;
  /** Clients that must be connected before a round starts (at least minClients). */
  minAvailable: number;
  fractionFit: number;
  /** How the server turns a round's mean delta into the next weights (FedAvg, or a server optimiser). */
  strategy: StrategyName;
  /** Server-side options; unset ones take the strategy's documented default. */
  serverLearningRate?: number;
  /** FedAvgM's momentum β. */
  serverMomentum?: number;
  /** β₁, β₂ and adaptivity τ of FedAdam and FedYogi; FedAdagrad takes β₁ and τ. */
  serverBeta1?: number;
  serverBeta2?: number;
  serverTau?: number;
  /** FedProx's μ, the proximal coefficient every round plan carries to the clients (≥ 0). */
  proximalMu?: number;
  /** Per-FedAvg's α, the inner SGD step size every round plan carries to the clients (> 0). */
  metaInnerLearningRate?: number;
  /** TrimmedMean's β, the fraction trimmed from each end of every coordinate, in (0, 0.5). */
  trimFraction?: number;
  /** Krum's and MultiKrum's f, the Byzantine clients tolerated in a round. */
  byzantineClients?: number;
  /** MultiKrum's m, the updates selected and averaged (unset: n − f of the round's n). */
  multikrumSelected?: number;
  roundTimeoutMs: number;
  evalTimeoutMs: number;
  maxRoundAttempts: number;
  /** Pause before the second attempt at a round, in ms; doubles with every further attempt (capped at 60 s). */
  roundRetryDelayMs: number;
  /**
   * How long a client may take to acknowledge a request, in ms. The ack says "accepted": a plan is acknowledged
   * before training starts, so this is independent of (and normally much shorter than) --round-timeout-ms,
   * which bounds the training itself. Also bounds the wait for each client's acknowledgement of the verdict.
   */
  ackTimeoutMs: number;
  /** How long a selected client that dropped mid-round may take to rejoin before the round gives up on it. */
  rejoinGraceMs: number;
  /** Largest L2 norm of one update's delta (all tensors together); larger ones are clipped or rejected. */
  maxUpdateNorm: number;
  updateNormAction: NormAction;
  /** Largest share of a round's aggregation weight one client may carry, in (0, 1]; 1 turns the cap off. */
  maxClientShare: number;
  /** Largest training or test example count a client may declare at Join. */
  maxDeclaredExamples: number;
  /**
   * Liveness is a heartbeat on the connection (Socket.IO ping/pong), separate from the round deadline: a
   * client that trains for an hour stays connected as long as it answers pings, which training does not block.
   */
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  outDir: string;
  backbone: string;
  labels: string[];
  adapterWidth: number;
  head: ModelSpec['head'];
  headHidden: number;
  /** LoRA inside the use-lite encoder (--lora-*); absent: the backbone stays frozen. */
  lora?: LoraSpec;
  /**
   * What every plan asks of the clients' training, the update compression included (`updateCompression`, only
   * when not float32, so that the config hashes of runs without it do not change: it is part of the run).
   */
  training: Omit<TrainingConfig, 'seed'>;
  seed: number;
  /** Shared secret clients present at connection; empty means no authentication (loopback demos only). */
  token: string;
  /** Listen beyond loopback without a token (refused otherwise; warned about when allowed). */
  allowUnauthenticated: boolean;
  /**
   * Per-client tokens (npm run token): the store's path, when there is one — --token-store FILE, or
   * `<out-dir>/tokens.json` if that exists when the coordinator starts. Absent: the shared token alone.
   */
  tokenStore?: string;
  /** Secret for the full status API (/api/status, /metrics); empty: nobody gets per-client detail remotely. */
  operatorToken: string;
  /** Joined clients at most; further joins are refused with FEDTL_ERR_TOO_MANY_CONNECTIONS. */
  maxClients: number;
  /** Open Socket.IO connections at most, in total and from one remote address (checked at the handshake). */
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** Failed authentications one address may make per window before it is refused unread (FEDTL_ERR_RATE_LIMITED). */
  maxAuthFailures: number;
  authFailureWindowMs: number;
  /** A selected client that delivers nothing this many rounds in a row is disconnected and refused for the run. */
  maxMissedRounds: number;
  /** Times the round in progress is re-sent to one client that rejoins during it. */
  maxPlanResends: number;
  /**
   * Secure aggregation (Bonawitz et al. 2017): the coordinator learns only each round's sum; clients must
   * implement it (older ones are refused at Join with FEDTL_ERR_SECAGG_UNSUPPORTED).
   */
  secureAggregation: boolean;
  /** t, the fewest clients whose inputs may be unmasked together; 0: ⌊n/2⌋ + 1 of the n selected (at least 2). */
  secaggThreshold: number;
  /** Deadline of each secure-aggregation key or unmasking phase, in ms (the masked inputs have the round's). */
  secaggPhaseTimeoutMs: number;
  /**
   * Differential privacy (docs/PROTOCOL.md §7.1), at most one unit. Record-level DP-SGD on every client: the clip
   * norm C of one example's gradient and the noise multiplier σ every plan carries.
   */
  dpRecordClipNorm?: number;
  dpRecordNoiseMultiplier?: number;
  /** Client-level DP-FedAvg: the clip norm S of one client's update, the noise multiplier z, the client sampling rate q. */
  dpUpdateClipNorm?: number;
  dpUpdateNoiseMultiplier?: number;
  dpClientSamplingRate?: number;
  /** The run's (ε, δ) budget: a round that would take the ledger above ε at δ is refused and the run stops. */
  dpEpsilon?: number;
  /** δ of the budget and of every ε the run reports (default 1e-5). */
  dpDelta: number;
  /** Things said once at start (e.g. a token visible in the process list); the config is valid. */
  warnings: string[];
  tlsCert?: string;
  tlsKey?: string;
  /** PEM bundle of CAs whose client certificates are accepted: turns on mutual TLS. */
  tlsClientCa?: string;
  fresh: boolean;
  /**
   * Cross-task transfer: a checkpoint file or a run's out-dir (its newest valid checkpoint) whose global weights
   * start this run; applied only when --out-dir has no checkpoint of its own. In the config hash (as an absolute
   * path), so a restart must name the same source, which it does not read again.
   */
  initFrom?: string;
  /** Write every accepted update to this directory (debugging and reproducibility checks). */
  auditDir?: string;
  /** Keep serving the dashboard this long after the run finished. */
  lingerMs: number;
  /** Write `{url, pid}` here once listening, so scripts need not parse logs. */
  readyFile?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

function fail(name: string, expected: string, got: unknown): never {
  throw configError(name, expected, got);
}

/** Loopback addresses: only this machine's users can reach a coordinator listening there. */
export function isLoopbackHost(host: string): boolean {
  return ['127.0.0.1', '::1', 'localhost', '[::1]'].includes(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Refuses weak tokens and an unauthenticated coordinator reachable from other machines; warns when the operator
 * explicitly allowed the latter. Errors name the rule, never the secret.
 */
function checkSecrets(config: CoordinatorConfig): void {
  const rule = 'at least 16 characters and not a placeholder (generate one: openssl rand -hex 32)';
  const weak = config.token ? tokenWeakness(config.token) : undefined;
  if (weak) fail('--token', `a federation token of ${rule}`, weak);
  const weakOperator = config.operatorToken ? tokenWeakness(config.operatorToken) : undefined;
  if (weakOperator) fail('--operator-token', `an operator token of ${rule}`, weakOperator);
  if (config.operatorToken && config.operatorToken === config.token) fail('--operator-token', 'a different secret than the federation token', 'the same');
  if (!config.token && !config.tokenStore && !isLoopbackHost(config.host)) {
    if (!config.allowUnauthenticated) {
      fail('--host', 'a federation token (--token-file FILE or FEDTL_TOKEN) or per-client tokens (fedtl token issue) when listening beyond loopback, or --allow-unauthenticated', config.host);
    }
    config.warnings.push(`listening on ${config.host} without a token (--allow-unauthenticated): anyone who reaches this port can join the federation`);
  }
}

/**
 * The strategy may come from a config file too; options of another strategy would be silently ignored: refused,
 * naming the flag, its value and the strategies that take it. A robust strategy's rule must be able to run on
 * every round the quorum accepts, so --min-clients is checked against it here rather than at round 1.
 */
function checkStrategy(config: CoordinatorConfig): void {
  const only: Array<[keyof CoordinatorConfig, string, StrategyName[]]> = [
    ['serverMomentum', '--server-momentum', ['fedavgm']],
    ['serverBeta1', '--server-beta1', ['fedadam', 'fedyogi', 'fedadagrad']],
    ['serverBeta2', '--server-beta2', ['fedadam', 'fedyogi']],
    ['serverTau', '--server-tau', ['fedadam', 'fedyogi', 'fedadagrad']],
    ['proximalMu', '--proximal-mu', ['fedprox']],
    ['metaInnerLearningRate', '--meta-inner-learning-rate', ['per-fedavg']],
    ['trimFraction', '--trim-fraction', ['trimmed-mean']],
    ['byzantineClients', '--byzantine-clients', ['krum', 'multikrum']],
    ['multikrumSelected', '--multikrum-selected', ['multikrum']],
  ];
  for (const [key, flag, strategies] of only) {
    const value = config[key];
    if (value !== undefined && !strategies.includes(config.strategy)) {
      fail(flag, `--strategy ${strategies.join('|')} (the only ones that take it)`, `${String(value)} with --strategy ${config.strategy}`);
    }
  }
  const fewest = fewestUpdatesOf(config);
  if (config.minClients < fewest.updates) {
    fail('--min-clients', `at least ${fewest.updates} with --strategy ${config.strategy} (${fewest.reason}; every accepted round must satisfy it)`, config.minClients);
  }
}

/** The fewest updates a round of the configured strategy needs, and why. */
function fewestUpdatesOf(config: CoordinatorConfig): { updates: number; reason: string } {
  switch (config.strategy) {
    case 'trimmed-mean': {
      const beta = config.trimFraction ?? 0.2;
      return { updates: fewestForTrimFraction(beta), reason: `trimming ⌊${beta}·n⌋ ≥ 1 update from each end` };
    }
    case 'krum':
    case 'multikrum': {
      const f = config.byzantineClients ?? 1;
      const m = config.strategy === 'multikrum' ? config.multikrumSelected : undefined;
      const reason = `Krum needs n > 2f + 2 with f = ${f}${m === undefined ? '' : ` and n ≥ m + f with m = ${m}`}`;
      return { updates: fewestForKrum(f, m), reason };
    }
    default:
      return { updates: 1, reason: '' };
  }
}

/** The secure-aggregation options, which only make sense together and with at least two clients a round. */
function checkSecureAggregation(config: CoordinatorConfig): void {
  if (!config.secureAggregation) {
    if (config.secaggThreshold !== 0) fail('--secagg-threshold', '--secure-aggregation', 'secure aggregation off');
    return;
  }
  if (ROBUST_STRATEGY_NAMES.includes(config.strategy)) {
    const mean = STRATEGY_NAMES.filter((name) => !ROBUST_STRATEGY_NAMES.includes(name)).join('|');
    fail('--strategy', `one that acts on the mean with --secure-aggregation (${mean}): under it the coordinator only learns the sum, and ${config.strategy} needs each client's update`, config.strategy);
  }
  if (config.minClients < 2) fail('--min-clients', 'at least 2 with --secure-aggregation (a sum of one update is that update)', config.minClients);
  if (config.secaggThreshold === 1) fail('--secagg-threshold', '0 (a majority) or at least 2 (with t = 1 one update could be unmasked alone)', 1);
  if (config.auditDir) fail('--audit-dir', 'no --secure-aggregation (under it the coordinator never sees an individual update to record)', config.auditDir);
  if (config.updateNormAction === 'reject') fail('--update-norm-action', 'clip with --secure-aggregation (each client clips its own update; the coordinator cannot see one to reject)', 'reject');
  if (config.secaggThreshold > config.minAvailable) fail('--secagg-threshold', `at most --min-available (${config.minAvailable}): a round of that many clients could never be unmasked`, config.secaggThreshold);
  // Every round of up to --max-clients clients must fit the 32-bit ring with the clip: refused now, not at round 1.
  try {
    chooseFractionalBits(config.maxClients, Math.max(config.maxUpdateNorm, 1));
  } catch {
    fail('--max-update-norm', `a bound whose sum over --max-clients (${config.maxClients}) clients fits the 32-bit ring of secure aggregation (max-clients × max-update-norm < 2^31)`, config.maxUpdateNorm);
  }
  if (config.secaggThreshold > config.maxClients) fail('--secagg-threshold', `at most --max-clients (${config.maxClients})`, config.secaggThreshold);
}

/** `--compression` as the plan carries it: nothing for float32 (the declaration has checked the syntax). */
function compressionOf(text: string): { updateCompression?: UpdateCompression } {
  const compression = parseUpdateCompression(text);
  return compression && compression.encoding !== 'raw' ? { updateCompression: compression } : {};
}

/**
 * Compression applies to an Update in the clear. Under secure aggregation a client sends a masked fixed-point
 * vector instead, which neither float16, int8 nor top-k can shrink (masked values are uniform in the ring): the
 * combination is refused rather than silently ignored. Top-k leaves most of each update zero, and the robust
 * strategies take per-coordinate medians, trims or distances over the updates: they would mostly see zeros, so
 * top-k is refused with them (float16 and int8 keep every coordinate and are allowed).
 */
function checkCompression(config: CoordinatorConfig): void {
  const compression = config.training.updateCompression;
  if (!compression) return;
  const word = formatUpdateCompression(compression);
  if (config.secureAggregation) {
    fail('--compression', 'float32 with --secure-aggregation (clients send a masked fixed-point vector, not an update a compression could shrink)', word);
  }
  if (compression.encoding === 'sparse' && ROBUST_STRATEGY_NAMES.includes(config.strategy)) {
    fail('--compression', `float32, float16 or int8 with --strategy ${config.strategy} (a per-coordinate robust rule over top-k updates would see mostly zeros)`, word);
  }
}

/** LoRA trains inside use-lite's encoder: no other backbone has one, and DP-SGD's per-record gradients through it are not built. */
function checkLora(config: CoordinatorConfig): void {
  if (!config.lora) return;
  if (config.backbone !== 'use-lite') fail('--lora-rank', `0 with --backbone ${config.backbone} (LoRA trains inside the use-lite encoder only)`, config.lora.rank);
  if (config.dpRecordClipNorm !== undefined) {
    fail('--lora-rank', '0 with --dp-record-clip-norm (DP-SGD through the encoder is not supported; client-level DP, --dp-update-clip-norm, is)', config.lora.rank);
  }
}

/** What --lora-* settings will surprise: details given without a rank, and a round deadline set for frozen features. */
function loraWarnings(config: CoordinatorConfig, resolved: CoordinatorOptions): string[] {
  const explicit = LORA_DETAIL_KEYS.filter((key) => isSetExplicitly(resolved, COORDINATOR_OPTIONS, key));
  if (!config.lora) return explicit.length > 0 ? [`${explicit.map((key) => `--${flagName(key)}`).join(', ')} ignored: --lora-rank is 0, so the backbone stays frozen`] : [];
  if (isSetExplicitly(resolved, COORDINATOR_OPTIONS, 'roundTimeoutMs')) return [];
  return [
    `LoRA trains through the encoder, far slower than on frozen features: each client logs its texts per second ("local training done"); ` +
      `if rounds time out, raise --round-timeout-ms (now ${config.roundTimeoutMs} ms) above local epochs × training texts ÷ that rate`,
  ];
}

/** Which differential privacy the run uses: none, record-level (DP-SGD) or client-level (DP-FedAvg). */
export function dpUnitOf(config: CoordinatorConfig): 'record' | 'client' | undefined {
  if (config.dpRecordClipNorm !== undefined) return 'record';
  if (config.dpUpdateClipNorm !== undefined) return 'client';
  return undefined;
}

/**
 * The DP options only make sense in pairs, with one unit, with a strategy that can honour them, and a budget
 * needs a mechanism to spend it (without noise, ε is infinite).
 */
function checkDifferentialPrivacy(config: CoordinatorConfig, deltaGiven: boolean): void {
  const pairs: Array<[keyof CoordinatorConfig, string, keyof CoordinatorConfig, string]> = [
    ['dpRecordClipNorm', '--dp-record-clip-norm', 'dpRecordNoiseMultiplier', '--dp-record-noise-multiplier'],
    ['dpUpdateClipNorm', '--dp-update-clip-norm', 'dpUpdateNoiseMultiplier', '--dp-update-noise-multiplier'],
  ];
  for (const [a, flagA, b, flagB] of pairs) {
    if ((config[a] === undefined) !== (config[b] === undefined)) {
      const [given, missing] = config[a] === undefined ? [flagB, flagA] : [flagA, flagB];
      fail(missing, `a value with ${given} (the clip norm and the noise multiplier go together)`, 'none');
    }
  }
  if (config.dpRecordClipNorm !== undefined && config.dpUpdateClipNorm !== undefined) {
    fail('--dp-record-clip-norm/--dp-update-clip-norm', 'one unit of privacy: record-level (DP-SGD) or client-level (DP-FedAvg)', 'both');
  }
  if (config.dpClientSamplingRate !== undefined && config.dpUpdateClipNorm === undefined) {
    fail('--dp-client-sampling-rate', 'client-level differential privacy (--dp-update-clip-norm, --dp-update-noise-multiplier)', config.dpClientSamplingRate);
  }
  for (const [clip, noise, flags] of [
    [config.dpRecordClipNorm, config.dpRecordNoiseMultiplier, '--dp-record-clip-norm × --dp-record-noise-multiplier'],
    [config.dpUpdateClipNorm, config.dpUpdateNoiseMultiplier, '--dp-update-clip-norm × --dp-update-noise-multiplier'],
  ] as const) {
    if (clip !== undefined && noise !== undefined && !Number.isFinite(clip * noise)) fail(flags, 'a finite noise standard deviation', `${clip} × ${noise}`);
  }
  const unit = dpUnitOf(config);
  if (config.dpEpsilon !== undefined && unit === undefined) {
    fail('--dp-epsilon', 'a mechanism to spend it (--dp-record-… or --dp-update-… options): without noise epsilon is infinite', config.dpEpsilon);
  }
  if (deltaGiven && unit === undefined) fail('--dp-delta', 'differential privacy on (--dp-record-… or --dp-update-… options)', config.dpDelta);
  if (unit === 'record' && (config.strategy === 'fedprox' || config.strategy === 'per-fedavg')) {
    fail('--strategy', 'one whose clients take plain local steps with --dp-record-… (DP-SGD has no FedProx term or Per-FedAvg step)', config.strategy);
  }
  if (unit === 'client' && ROBUST_STRATEGY_NAMES.includes(config.strategy)) {
    const mean = STRATEGY_NAMES.filter((name) => !ROBUST_STRATEGY_NAMES.includes(name)).join('|');
    fail('--strategy', `one that acts on the mean with --dp-update-… (${mean}): DP-FedAvg adds its noise to the sum`, config.strategy);
  }
  if (unit === 'client' && config.auditDir) fail('--audit-dir', 'no --dp-update-… (the audit would keep the individual updates the noise of the sum protects)', config.auditDir);
}

/**
 * A secret given directly or as a file (`--token` or `--token-file`): the one from the higher-precedence source.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG when both come from the same source, or the file cannot be read.
 */
function secretOf(resolved: CoordinatorOptions, key: 'token' | 'operatorToken', fileKey: 'tokenFile' | 'operatorTokenFile'): string {
  const which = preferredOf(resolved, key, fileKey);
  if (which === undefined) return '';
  return which === key ? (resolved.values[key] as string) : readSecretFile(`--${flagName(fileKey)}`, resolved.values[fileKey] as string);
}

export type CoordinatorOptions = ResolvedOptions<typeof COORDINATOR_OPTIONS>;

/**
 * The coordinator's configuration from its resolved options (fedtl coordinator, after flags, environment, config
 * file and defaults are merged): reads the secret files, finds the token store, and checks what involves several
 * options at once.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming the option(s), what they need and what came.
 */
export function coordinatorConfigFrom(resolved: CoordinatorOptions): CoordinatorConfig {
  const v = resolved.values;
  const warnings: string[] = [];
  const token = secretOf(resolved, 'token', 'tokenFile');
  const operatorToken = secretOf(resolved, 'operatorToken', 'operatorTokenFile');
  if (resolved.sources.token === 'flag') warnings.push('--token on the command line is visible to every user of this machine (ps); use --token-file FILE or FEDTL_TOKEN');
  if (resolved.sources.operatorToken === 'flag') {
    warnings.push('--operator-token on the command line is visible to every user of this machine (ps); use --operator-token-file FILE or FEDTL_OPERATOR_TOKEN');
  }
  let tokenStore: string | undefined;
  if (v.tokenStore !== undefined) {
    if (!existsSync(v.tokenStore)) fail('--token-store', 'an existing token store (make one with: fedtl token issue --token-store FILE --client ID)', v.tokenStore);
    tokenStore = v.tokenStore;
  } else if (existsSync(tokenStorePath(v.outDir))) {
    tokenStore = tokenStorePath(v.outDir);
  }
  if (v.initFrom !== undefined && v.initFrom.trim() === '') fail('--init-from', 'a checkpoint file or a run directory', v.initFrom);
  const config: CoordinatorConfig = {
    host: v.host,
    port: v.port,
    rounds: v.rounds,
    minClients: v.minClients,
    minAvailable: v.minAvailable ?? v.minClients,
    fractionFit: v.fractionFit,
    strategy: v.strategy,
    serverLearningRate: v.serverLearningRate,
    serverMomentum: v.serverMomentum,
    serverBeta1: v.serverBeta1,
    serverBeta2: v.serverBeta2,
    serverTau: v.serverTau,
    proximalMu: v.proximalMu,
    metaInnerLearningRate: v.metaInnerLearningRate,
    trimFraction: v.trimFraction,
    byzantineClients: v.byzantineClients,
    multikrumSelected: v.multikrumSelected,
    roundTimeoutMs: v.roundTimeoutMs,
    evalTimeoutMs: v.evalTimeoutMs,
    maxRoundAttempts: v.maxRoundAttempts,
    roundRetryDelayMs: v.roundRetryDelayMs,
    ackTimeoutMs: v.ackTimeoutMs,
    rejoinGraceMs: v.rejoinGraceMs,
    maxUpdateNorm: v.maxUpdateNorm,
    updateNormAction: v.updateNormAction,
    maxClientShare: v.maxClientShare,
    maxDeclaredExamples: v.maxDeclaredExamples,
    heartbeatIntervalMs: v.heartbeatIntervalMs,
    heartbeatTimeoutMs: v.heartbeatTimeoutMs,
    outDir: v.outDir,
    backbone: v.backbone,
    labels: v.labels.map((label) => normalizeLabel(label)).filter(Boolean),
    adapterWidth: v.adapterWidth,
    head: v.head,
    headHidden: v.headHidden,
    lora: loraSpecOf(v),
    training: { localEpochs: v.localEpochs, batchSize: v.batchSize, learningRate: v.learningRate, optimizer: v.optimizer, ...compressionOf(v.compression) },
    seed: v.seed,
    token,
    allowUnauthenticated: v.allowUnauthenticated,
    tokenStore,
    operatorToken,
    maxClients: v.maxClients,
    maxConnections: v.maxConnections,
    maxConnectionsPerAddress: v.maxConnectionsPerAddress,
    maxAuthFailures: v.maxAuthFailures,
    authFailureWindowMs: v.authFailureWindowMs,
    maxMissedRounds: v.maxMissedRounds,
    maxPlanResends: v.maxPlanResends,
    secureAggregation: v.secureAggregation,
    secaggThreshold: v.secaggThreshold,
    secaggPhaseTimeoutMs: v.secaggPhaseTimeoutMs,
    dpRecordClipNorm: v.dpRecordClipNorm,
    dpRecordNoiseMultiplier: v.dpRecordNoiseMultiplier,
    dpUpdateClipNorm: v.dpUpdateClipNorm,
    dpUpdateNoiseMultiplier: v.dpUpdateNoiseMultiplier,
    dpClientSamplingRate: v.dpClientSamplingRate,
    dpEpsilon: v.dpEpsilon,
    dpDelta: v.dpDelta,
    warnings,
    tlsCert: v.tlsCert,
    tlsKey: v.tlsKey,
    tlsClientCa: v.tlsClientCa,
    fresh: v.fresh,
    initFrom: v.initFrom,
    auditDir: v.auditDir,
    lingerMs: v.lingerMs,
    readyFile: v.readyFile,
    logLevel: v.logLevel,
    logFormat: v.logFormat,
  };
  for (const key of Object.keys(config) as Array<keyof CoordinatorConfig>) if (config[key] === undefined) delete config[key];
  checkStrategy(config);
  if (config.minAvailable < config.minClients) fail('--min-available', `at least --min-clients (${config.minClients})`, config.minAvailable);
  if (config.labels.length < 2) fail('--labels', 'at least two labels', config.labels);
  checkSecureAggregation(config);
  checkDifferentialPrivacy(config, isSetExplicitly(resolved, COORDINATOR_OPTIONS, 'dpDelta'));
  checkCompression(config);
  checkLora(config);
  loraWarnings(config, resolved).forEach((warning) => config.warnings.push(warning));
  if (new Set(config.labels).size !== config.labels.length) fail('--labels', 'distinct labels', config.labels);
  if (Boolean(config.tlsCert) !== Boolean(config.tlsKey)) fail('--tls-cert/--tls-key', 'both or neither', { cert: config.tlsCert, key: config.tlsKey });
  if (config.tlsClientCa && !config.tlsCert) fail('--tls-client-ca', 'TLS to be on (--tls-cert and --tls-key)', config.tlsClientCa);
  checkSecrets(config);
  return config;
}

/**
 * The configuration `fedtl coordinator ARGV…` would run with in environment `env` (for tests and scripts; the
 * command itself resolves through the same declarations).
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG.
 */
export function parseCoordinatorConfig(argv: readonly string[], env: Record<string, string | undefined> = {}): CoordinatorConfig {
  return coordinatorConfigFrom(parseCommandLine(COORDINATOR_OPTIONS, argv, env, readUserTextSync));
}
