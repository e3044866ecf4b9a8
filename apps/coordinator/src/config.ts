// The coordinator's configuration: parsed and validated once, here, from a JSON file, FEDTL_* environment
// variables and command-line flags (later sources win). Everything below receives plain values.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { normalizeLabel, readUserTextSync } from '@fedtl/data';
import { FedtlError, configError, isLogLevel, parseInteger, parseOneOf, parsePositiveNumber, tokenWeakness, type LogLevel } from '@fedtl/util';
import type { ModelSpec, TrainingConfig } from '@fedtl/protocol';
import { chooseFractionalBits } from '@fedtl/privacy';
import { fewestForKrum, fewestForTrimFraction } from '@fedtl/strategies';
import { tokenStorePath } from './credentials/token-store';
import { NORM_ACTIONS, type NormAction } from './norm-bound';

export const STRATEGY_NAMES = ['fedavg', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad', 'fedprox', 'per-fedavg', 'median', 'trimmed-mean', 'krum', 'multikrum'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];
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
  logFormat: 'pretty' | 'json';
}

export const DEFAULT_CONFIG: CoordinatorConfig = {
  host: '127.0.0.1',
  port: 8080,
  rounds: 5,
  minClients: 2,
  minAvailable: 2,
  fractionFit: 1,
  strategy: 'fedavg',
  roundTimeoutMs: 300_000,
  evalTimeoutMs: 120_000,
  maxRoundAttempts: 3,
  roundRetryDelayMs: 2_000,
  ackTimeoutMs: 30_000,
  rejoinGraceMs: 15_000,
  // Honest updates of the default plans measured 6-12 (use-lite 512-d features, adapter 64, Adam 0.003,
  // 3 epochs, 100-5,000 examples): 100 leaves them untouched with room for larger rates and longer training.
  maxUpdateNorm: 100,
  updateNormAction: 'clip',
  maxClientShare: 0.5,
  maxDeclaredExamples: 1_000_000,
  heartbeatIntervalMs: 10_000,
  heartbeatTimeoutMs: 20_000,
  outDir: 'out/coordinator',
  backbone: 'use-lite',
  labels: ['ham', 'spam'],
  adapterWidth: 64,
  head: 'linear',
  headHidden: 64,
  training: { localEpochs: 3, batchSize: 32, learningRate: 0.003, optimizer: 'adam' },
  seed: 42,
  token: '',
  allowUnauthenticated: false,
  operatorToken: '',
  maxClients: 1000,
  maxConnections: 2000,
  maxConnectionsPerAddress: 16,
  maxAuthFailures: 10,
  authFailureWindowMs: 60_000,
  maxMissedRounds: 2,
  maxPlanResends: 2,
  secureAggregation: false,
  secaggThreshold: 0,
  secaggPhaseTimeoutMs: 30_000,
  dpDelta: 1e-5,
  warnings: [],
  fresh: false,
  lingerMs: 0,
  logLevel: 'info',
  logFormat: 'pretty',
};

const FLAGS = {
  config: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  rounds: { type: 'string' },
  'min-clients': { type: 'string' },
  'min-available': { type: 'string' },
  'fraction-fit': { type: 'string' },
  strategy: { type: 'string' },
  'server-learning-rate': { type: 'string' },
  'server-momentum': { type: 'string' },
  'server-beta1': { type: 'string' },
  'server-beta2': { type: 'string' },
  'server-tau': { type: 'string' },
  'proximal-mu': { type: 'string' },
  'meta-inner-learning-rate': { type: 'string' },
  'trim-fraction': { type: 'string' },
  'byzantine-clients': { type: 'string' },
  'multikrum-selected': { type: 'string' },
  'round-timeout-ms': { type: 'string' },
  'eval-timeout-ms': { type: 'string' },
  'max-round-attempts': { type: 'string' },
  'round-retry-delay-ms': { type: 'string' },
  'ack-timeout-ms': { type: 'string' },
  'rejoin-grace-ms': { type: 'string' },
  'max-update-norm': { type: 'string' },
  'update-norm-action': { type: 'string' },
  'max-client-share': { type: 'string' },
  'max-declared-examples': { type: 'string' },
  'heartbeat-interval-ms': { type: 'string' },
  'heartbeat-timeout-ms': { type: 'string' },
  'out-dir': { type: 'string' },
  backbone: { type: 'string' },
  labels: { type: 'string' },
  'adapter-width': { type: 'string' },
  head: { type: 'string' },
  'head-hidden': { type: 'string' },
  'local-epochs': { type: 'string' },
  'batch-size': { type: 'string' },
  'learning-rate': { type: 'string' },
  optimizer: { type: 'string' },
  seed: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  'allow-unauthenticated': { type: 'boolean' },
  'token-store': { type: 'string' },
  'operator-token': { type: 'string' },
  'operator-token-file': { type: 'string' },
  'max-clients': { type: 'string' },
  'max-connections': { type: 'string' },
  'max-connections-per-address': { type: 'string' },
  'max-auth-failures': { type: 'string' },
  'auth-failure-window-ms': { type: 'string' },
  'max-missed-rounds': { type: 'string' },
  'max-plan-resends': { type: 'string' },
  'secure-aggregation': { type: 'boolean' },
  'secagg-threshold': { type: 'string' },
  'secagg-phase-timeout-ms': { type: 'string' },
  'dp-record-clip-norm': { type: 'string' },
  'dp-record-noise-multiplier': { type: 'string' },
  'dp-update-clip-norm': { type: 'string' },
  'dp-update-noise-multiplier': { type: 'string' },
  'dp-client-sampling-rate': { type: 'string' },
  'dp-epsilon': { type: 'string' },
  'dp-delta': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-client-ca': { type: 'string' },
  fresh: { type: 'boolean' },
  'init-from': { type: 'string' },
  'audit-dir': { type: 'string' },
  'ready-file': { type: 'string' },
  'linger-ms': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  help: { type: 'boolean' },
} as const;

export const USAGE = `Usage: npm run coordinator -- [options]

  --config FILE              JSON file with any of the options below (camelCase keys)
  --host HOST                address to listen on (default 127.0.0.1; 0.0.0.0 for other machines)
  --port N                   port (default 8080; 0 picks a free one)
  --rounds N                 federated rounds to run (default 5)
  --min-clients N            quorum: updates needed to accept a round (default 2)
  --min-available N          clients that must be connected before a round starts (default: --min-clients)
  --fraction-fit F           fraction of connected clients sampled per round (default 1)
  --strategy NAME            how a round's updates become the next weights (default fedavg):
                             fedavg | fedavgm (server momentum) | fedadam | fedyogi | fedadagrad (server
                             Adam, Yogi, Adagrad) act on the example-weighted mean delta; fedprox
                             is fedavg with a proximal term in every client's local objective;
                             per-fedavg is fedavg whose clients take first-order meta-learning steps
                             (Per-FedAvg): it learns an initialisation that a new client adapts in a
                             few steps (npm run client -- --adapt-only);
                             median | trimmed-mean | krum | multikrum are robust to faulty or malicious
                             clients: unweighted, they need each update (not with --secure-aggregation)
  --server-learning-rate X   server step on the aggregate delta (default 1; fedadam, fedadagrad 0.1;
                             fedyogi 0.01)
  --server-momentum B        fedavgm: momentum in [0, 1) (default 0.9)
  --server-beta1 B --server-beta2 B --server-tau T
                             fedadam, fedyogi: moment decays in [0, 1) and adaptivity > 0 (fedadam
                             default 0.9, 0.99, 1e-9; fedyogi 0.9, 0.99, 1e-3); fedadagrad: --server-beta1
                             (default 0) and --server-tau (default 1e-9) only
  --proximal-mu MU           fedprox: μ ≥ 0 of the term μ/2·‖w − w_global‖² each client adds to its local
                             loss, sent in every round plan (default 0.01; 0 trains as fedavg)
  --meta-inner-learning-rate A
                             per-fedavg: α > 0, the SGD step size of each local step's inner adaptation,
                             sent in every round plan and recorded in the checkpoints, where a new client's
                             --adapt-only takes it as its step size (default 0.2)
  --trim-fraction B          trimmed-mean: fraction trimmed from each end of every coordinate, in (0, 0.5)
                             (default 0.2); --min-clients must make ⌊B·n⌋ ≥ 1 (5 for 0.2)
  --byzantine-clients F      krum, multikrum: faulty clients tolerated per round (default 1); rounds need
                             n > 2F + 2 updates, so --min-clients must be at least 2F + 3
  --multikrum-selected M     multikrum: updates selected and averaged (default n − F of the round's n);
                             --min-clients must be at least M + F
  --round-timeout-ms MS      deadline for a round's updates (default 300000)
  --eval-timeout-ms MS       deadline for evaluation reports (default 120000)
  --max-round-attempts N     retries of a round that missed its quorum (default 3)
  --round-retry-delay-ms MS  pause before re-running a round that missed its quorum; doubles with each
                             attempt, capped at 60 s (default 2000)
  --ack-timeout-ms MS        how long a client may take to acknowledge a plan, an evaluation request or the
                             verdict (default 30000); a plan is acknowledged before training, so this is not
                             the round deadline (--round-timeout-ms)
  --rejoin-grace-ms MS       how long a client that dropped mid-round may take to come back (default 15000)
  --max-update-norm X        largest L2 norm of one client's update, over all its tensors (default 100)
  --update-norm-action clip|reject
                             clip a larger update down to the bound, or refuse it (default clip)
  --max-client-share F       largest share of a round's weight one client may carry, in (0, 1]; 1 turns the
                             cap off (default 0.5; a round of k clients holds each to max(F, 1/k))
  --max-declared-examples N  largest training or test example count a client may declare (default 1000000)
  --heartbeat-interval-ms MS --heartbeat-timeout-ms MS
                             connection liveness pings, independent of the round deadline (default 10000, 20000)
  --out-dir DIR              checkpoints, metrics.jsonl and summary.json (default out/coordinator)
  --backbone SPEC            use-lite | tfjs-model:DIR | precomputed:DIM (default use-lite)
  --labels a,b,...           the federation's label set (default ham,spam)
  --adapter-width N          adapter bottleneck width, 0 for none (default 64)
  --head linear|mlp          classification head (default linear); --head-hidden N for mlp
  --local-epochs N --batch-size N --learning-rate X --optimizer sgd|adam
  --seed N                   base seed for initialisation, sampling and client shuffles (default 42)
  --token-file FILE          file holding the shared secret clients must present (or env FEDTL_TOKEN;
                             --token SECRET works but is visible in the process list). At least 16
                             characters, not a placeholder; required unless --host is loopback
  --token-store FILE         per-client tokens made by \`npm run token -- issue\` (default: <out-dir>/tokens.json
                             when it exists); a client then joins with the shared token or its own token
  --allow-unauthenticated    listen beyond loopback without a token (not recommended; warned about)
  --operator-token-file FILE secret for the full status API and dashboard (or env FEDTL_OPERATOR_TOKEN,
                             or --operator-token); federation-token holders see run-level aggregates only
  --max-clients N            joined clients at most (default 1000)
  --max-connections N        open connections at most (default 2000); --max-connections-per-address N (default 16)
  --max-auth-failures N      failed authentications per address per window before it is refused unread (default 10)
  --auth-failure-window-ms MS  that window (default 60000)
  --max-missed-rounds K      a selected client that delivers nothing K rounds in a row is disconnected and
                             refused for the rest of the run (default 2)
  --max-plan-resends N       times the round in progress is re-sent to one client rejoining during it (default 2)
  --secure-aggregation       the coordinator learns only each round's sum of updates (Bonawitz et al. 2017)
  --secagg-threshold T       fewest clients unmasked together; 0: a majority of the selected, at least 2 (default 0)
  --secagg-phase-timeout-ms MS  deadline of each secure-aggregation key or unmasking phase (default 30000)
  --dp-record-clip-norm C --dp-record-noise-multiplier SIGMA
                             record-level differential privacy: every client trains by DP-SGD (Poisson
                             sampling, each example's gradient clipped to C, noise SIGMA·C); the unit of
                             privacy is one example of one organisation
  --dp-update-clip-norm S --dp-update-noise-multiplier Z [--dp-client-sampling-rate Q]
                             client-level differential privacy (DP-FedAvg): each client's update clipped to
                             S, noise Z·S on the sum, a Poisson sample of the clients each round (each with
                             probability Q, default 1); the unit of privacy is one organisation
  --dp-epsilon E [--dp-delta D]  the run's privacy budget, ε at δ (D in (0, 0.01), default 1e-5): record-level,
                             a client whose data one more round would take over E is no longer selected, and
                             the run stops when too few remain; client-level, a round that would spend more
                             than E is refused and the run stops. The ledger: OUT/privacy-ledger.json, every
                             checkpoint, metrics.jsonl, summary.json, /api/status and /metrics
  --tls-cert FILE --tls-key FILE     serve over TLS (wss://); --tls-client-ca FILE requires client certificates
  --fresh                    ignore existing checkpoints in --out-dir and start over
  --init-from PATH           start a new run from another run's global weights: a checkpoint file or a run's
                             --out-dir (its newest valid checkpoint); tensors of the same name and shape are
                             kept, the head's output layer is re-initialised when the label set differs; only
                             when --out-dir has no checkpoint yet (a restart resumes and must name the same PATH)
  --audit-dir DIR            write every accepted update to DIR
  --ready-file FILE          write {"url","pid"} to FILE once listening
  --linger-ms MS             keep the dashboard (http://HOST:PORT/) up this long after the run (default 0)
  --log-level debug|info|warn|error   --log-format pretty|json
`;

function fail(name: string, expected: string, got: unknown): never {
  throw configError(name, expected, got);
}

/** A decay rate (momentum, β₁, β₂): a number in [0, 1). */
function parseDecayRate(name: string, value: string): number {
  const n = Number(value);
  if (!(value.trim() !== '' && Number.isFinite(n) && n >= 0 && n < 1)) fail(name, 'a number in [0, 1)', value);
  return n;
}

/** A secret from a file (Docker/Kubernetes secrets are files): its content without the trailing newline. */
function readSecretFile(name: string, path: string): string {
  try {
    return readUserTextSync(path).replace(/\r?\n$/, '');
  } catch (err) {
    fail(name, 'a readable file holding the secret', `${path} (${(err as Error).message})`);
  }
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
      fail('--host', 'a federation token (--token-file FILE or FEDTL_TOKEN) or per-client tokens (npm run token) when listening beyond loopback, or --allow-unauthenticated', config.host);
    }
    config.warnings.push(`listening on ${config.host} without a token (--allow-unauthenticated): anyone who reaches this port can join the federation`);
  }
}

/** FedProx's μ: a finite number ≥ 0. */
function parseProximalMu(value: string): number {
  const n = Number(value);
  if (!(value.trim() !== '' && Number.isFinite(n) && n >= 0)) fail('--proximal-mu', 'a finite number >= 0', value);
  return n;
}

/** TrimmedMean's β: a number in (0, 0.5). */
function parseTrimFraction(value: string): number {
  const n = Number(value);
  if (!(value.trim() !== '' && Number.isFinite(n) && n > 0 && n < 0.5)) fail('--trim-fraction', 'a number in (0, 0.5)', value);
  return n;
}

/**
 * The strategy may come from a config file too; options of another strategy would be silently ignored: refused,
 * naming the flag, its value and the strategies that take it. A robust strategy's rule must be able to run on
 * every round the quorum accepts, so --min-clients is checked against it here rather than at round 1.
 */
function checkStrategy(config: CoordinatorConfig): void {
  parseOneOf('strategy', config.strategy, STRATEGY_NAMES);
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

/** δ: a number in (0, 1). */
function parseDelta(value: string): number {
  const n = Number(value);
  // Above 1 / n a mechanism may publish a record in the clear and still be (ε, δ)-DP: 0.01 is far beyond sensible.
  if (!(value.trim() !== '' && n > 0 && n < 0.01)) fail('--dp-delta', 'a number in (0, 0.01), e.g. 1e-5 (well below 1 / the examples of the smallest client)', value);
  return n;
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

/** setTimeout's limit: a longer delay would fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

function parseTimeout(name: string, value: string, min: number): number {
  const ms = parseInteger(name, value, min);
  if (ms > MAX_TIMEOUT_MS) fail(name, `at most ${MAX_TIMEOUT_MS} ms (about 24.8 days)`, value);
  return ms;
}

type FlagValues = { [K in keyof typeof FLAGS]?: (typeof FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

/**
 * A config file's values as flags (camelCase keys to kebab-case, `training.*` flattened, lists joined), so they
 * are validated by exactly the code that validates the command line. Unknown keys are refused.
 */
function fileToFlags(file: string): FlagValues {
  let json: unknown;
  try {
    json = JSON.parse(readUserTextSync(file));
  } catch (err) {
    if (err instanceof FedtlError) throw err;
    fail('--config', 'a readable JSON file', `${file} (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('--config', 'a JSON object of options', file);
  const entries = Object.entries(json as Record<string, unknown>).flatMap(([key, value]) =>
    key === 'training' && typeof value === 'object' && value !== null ? Object.entries(value) : [[key, value] as [string, unknown]],
  );
  const flags: Record<string, string | boolean> = {};
  for (const [key, value] of entries) {
    const flag = key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    const option = (FLAGS as Record<string, { type: string }>)[flag];
    if (!option || flag === 'config' || flag === 'help') fail(`${file}: "${key}"`, 'a known option (see --help)', key);
    if (option.type === 'boolean') {
      if (typeof value !== 'boolean') fail(`${file}: "${key}"`, 'true or false', value);
      flags[flag] = value;
    } else if (Array.isArray(value)) {
      flags[flag] = value.map(String).join(',');
    } else if (typeof value === 'string' || typeof value === 'number') {
      flags[flag] = String(value);
    } else {
      fail(`${file}: "${key}"`, 'a string, number or list', value);
    }
  }
  return flags as FlagValues;
}

/** Reads flags (argv without node and script), FEDTL_TOKEN and an optional JSON file (flags win). */
export function parseCoordinatorConfig(argv: string[], env: NodeJS.ProcessEnv = {}): CoordinatorConfig | 'help' {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    // node:util's own errors (an unknown option, a missing or dash-led value) as a configuration error, not a crash.
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `command line: ${(err as Error).message} (see --help)`);
  }
  if (values.help) return 'help';
  const v: FlagValues = { ...(values.config ? fileToFlags(values.config) : {}), ...values };
  const merged: CoordinatorConfig = { ...DEFAULT_CONFIG, training: { ...DEFAULT_CONFIG.training } };
  merged.warnings = [];
  if (env.FEDTL_TOKEN) merged.token = env.FEDTL_TOKEN;
  if (env.FEDTL_OPERATOR_TOKEN) merged.operatorToken = env.FEDTL_OPERATOR_TOKEN;
  if (v.host !== undefined) merged.host = v.host;
  if (v.port !== undefined) merged.port = parseInteger('--port', v.port, 0);
  if (v.rounds !== undefined) merged.rounds = parseInteger('--rounds', v.rounds, 1);
  if (v['min-clients'] !== undefined) merged.minClients = parseInteger('--min-clients', v['min-clients'], 1);
  merged.minAvailable = v['min-available'] !== undefined ? parseInteger('--min-available', v['min-available'], 1) : merged.minClients;
  if (v['fraction-fit'] !== undefined) merged.fractionFit = parsePositiveNumber('--fraction-fit', v['fraction-fit'], 1);
  if (v.strategy !== undefined) merged.strategy = parseOneOf('--strategy', v.strategy, STRATEGY_NAMES);
  if (v['server-learning-rate'] !== undefined) merged.serverLearningRate = parsePositiveNumber('--server-learning-rate', v['server-learning-rate']);
  if (v['server-momentum'] !== undefined) merged.serverMomentum = parseDecayRate('--server-momentum', v['server-momentum']);
  if (v['server-beta1'] !== undefined) merged.serverBeta1 = parseDecayRate('--server-beta1', v['server-beta1']);
  if (v['server-beta2'] !== undefined) merged.serverBeta2 = parseDecayRate('--server-beta2', v['server-beta2']);
  if (v['server-tau'] !== undefined) merged.serverTau = parsePositiveNumber('--server-tau', v['server-tau']);
  if (v['proximal-mu'] !== undefined) merged.proximalMu = parseProximalMu(v['proximal-mu']);
  if (v['meta-inner-learning-rate'] !== undefined) merged.metaInnerLearningRate = parsePositiveNumber('--meta-inner-learning-rate', v['meta-inner-learning-rate']);
  if (v['trim-fraction'] !== undefined) merged.trimFraction = parseTrimFraction(v['trim-fraction']);
  if (v['byzantine-clients'] !== undefined) merged.byzantineClients = parseInteger('--byzantine-clients', v['byzantine-clients'], 0);
  if (v['multikrum-selected'] !== undefined) merged.multikrumSelected = parseInteger('--multikrum-selected', v['multikrum-selected'], 1);
  if (v['round-timeout-ms'] !== undefined) merged.roundTimeoutMs = parseTimeout('--round-timeout-ms', v['round-timeout-ms'], 1);
  if (v['eval-timeout-ms'] !== undefined) merged.evalTimeoutMs = parseTimeout('--eval-timeout-ms', v['eval-timeout-ms'], 1);
  if (v['max-round-attempts'] !== undefined) merged.maxRoundAttempts = parseInteger('--max-round-attempts', v['max-round-attempts'], 1);
  if (v['round-retry-delay-ms'] !== undefined) merged.roundRetryDelayMs = parseTimeout('--round-retry-delay-ms', v['round-retry-delay-ms'], 0);
  if (v['ack-timeout-ms'] !== undefined) merged.ackTimeoutMs = parseTimeout('--ack-timeout-ms', v['ack-timeout-ms'], 1);
  if (v['rejoin-grace-ms'] !== undefined) merged.rejoinGraceMs = parseTimeout('--rejoin-grace-ms', v['rejoin-grace-ms'], 0);
  if (v['max-update-norm'] !== undefined) merged.maxUpdateNorm = parsePositiveNumber('--max-update-norm', v['max-update-norm']);
  if (v['update-norm-action'] !== undefined) merged.updateNormAction = parseOneOf('--update-norm-action', v['update-norm-action'], NORM_ACTIONS);
  if (v['max-client-share'] !== undefined) merged.maxClientShare = parsePositiveNumber('--max-client-share', v['max-client-share'], 1);
  if (v['max-declared-examples'] !== undefined) merged.maxDeclaredExamples = parseInteger('--max-declared-examples', v['max-declared-examples'], 1);
  if (v['heartbeat-interval-ms'] !== undefined) merged.heartbeatIntervalMs = parseTimeout('--heartbeat-interval-ms', v['heartbeat-interval-ms'], 1);
  if (v['heartbeat-timeout-ms'] !== undefined) merged.heartbeatTimeoutMs = parseTimeout('--heartbeat-timeout-ms', v['heartbeat-timeout-ms'], 1);
  if (v['out-dir'] !== undefined) merged.outDir = v['out-dir'];
  if (v.backbone !== undefined) merged.backbone = v.backbone;
  if (v.labels !== undefined) merged.labels = v.labels.split(',').map((label) => normalizeLabel(label.trim())).filter(Boolean);
  if (v['adapter-width'] !== undefined) merged.adapterWidth = parseInteger('--adapter-width', v['adapter-width'], 0);
  if (v.head !== undefined) merged.head = parseOneOf('--head', v.head, ['linear', 'mlp'] as const);
  if (v['head-hidden'] !== undefined) merged.headHidden = parseInteger('--head-hidden', v['head-hidden'], 1);
  if (v['local-epochs'] !== undefined) merged.training.localEpochs = parseInteger('--local-epochs', v['local-epochs'], 1);
  if (v['batch-size'] !== undefined) merged.training.batchSize = parseInteger('--batch-size', v['batch-size'], 1);
  if (v['learning-rate'] !== undefined) merged.training.learningRate = parsePositiveNumber('--learning-rate', v['learning-rate']);
  if (v.optimizer !== undefined) merged.training.optimizer = parseOneOf('--optimizer', v.optimizer, ['sgd', 'adam'] as const);
  if (v.seed !== undefined) merged.seed = parseInteger('--seed', v.seed, 0);
  if (v.token !== undefined && v['token-file'] !== undefined) fail('--token/--token-file', 'one of them', 'both');
  if (v.token !== undefined) merged.token = v.token;
  if (v['token-file'] !== undefined) merged.token = readSecretFile('--token-file', v['token-file']);
  if (values.token !== undefined) merged.warnings.push('--token on the command line is visible to every user of this machine (ps); use --token-file FILE or FEDTL_TOKEN');
  if (v['operator-token'] !== undefined && v['operator-token-file'] !== undefined) fail('--operator-token/--operator-token-file', 'one of them', 'both');
  if (v['operator-token'] !== undefined) merged.operatorToken = v['operator-token'];
  if (v['operator-token-file'] !== undefined) merged.operatorToken = readSecretFile('--operator-token-file', v['operator-token-file']);
  if (values['operator-token'] !== undefined) {
    merged.warnings.push('--operator-token on the command line is visible to every user of this machine (ps); use --operator-token-file FILE or FEDTL_OPERATOR_TOKEN');
  }
  if (v['allow-unauthenticated']) merged.allowUnauthenticated = true;
  if (v['token-store'] !== undefined) {
    if (!existsSync(v['token-store'])) fail('--token-store', 'an existing token store (make one with: npm run token -- issue --token-store FILE --client ID)', v['token-store']);
    merged.tokenStore = v['token-store'];
  } else if (existsSync(tokenStorePath(merged.outDir))) {
    merged.tokenStore = tokenStorePath(merged.outDir);
  }
  if (v['max-clients'] !== undefined) merged.maxClients = parseInteger('--max-clients', v['max-clients'], 1);
  if (v['max-connections'] !== undefined) merged.maxConnections = parseInteger('--max-connections', v['max-connections'], 1);
  if (v['max-connections-per-address'] !== undefined) merged.maxConnectionsPerAddress = parseInteger('--max-connections-per-address', v['max-connections-per-address'], 1);
  if (v['max-auth-failures'] !== undefined) merged.maxAuthFailures = parseInteger('--max-auth-failures', v['max-auth-failures'], 1);
  if (v['auth-failure-window-ms'] !== undefined) merged.authFailureWindowMs = parseTimeout('--auth-failure-window-ms', v['auth-failure-window-ms'], 1000);
  if (v['max-missed-rounds'] !== undefined) merged.maxMissedRounds = parseInteger('--max-missed-rounds', v['max-missed-rounds'], 1);
  if (v['max-plan-resends'] !== undefined) merged.maxPlanResends = parseInteger('--max-plan-resends', v['max-plan-resends'], 0);
  if (v['secure-aggregation']) merged.secureAggregation = true;
  if (v['secagg-threshold'] !== undefined) merged.secaggThreshold = parseInteger('--secagg-threshold', v['secagg-threshold'], 0);
  if (v['secagg-phase-timeout-ms'] !== undefined) merged.secaggPhaseTimeoutMs = parseTimeout('--secagg-phase-timeout-ms', v['secagg-phase-timeout-ms'], 100);
  if (v['dp-record-clip-norm'] !== undefined) merged.dpRecordClipNorm = parsePositiveNumber('--dp-record-clip-norm', v['dp-record-clip-norm']);
  if (v['dp-record-noise-multiplier'] !== undefined) merged.dpRecordNoiseMultiplier = parsePositiveNumber('--dp-record-noise-multiplier', v['dp-record-noise-multiplier']);
  if (v['dp-update-clip-norm'] !== undefined) merged.dpUpdateClipNorm = parsePositiveNumber('--dp-update-clip-norm', v['dp-update-clip-norm']);
  if (v['dp-update-noise-multiplier'] !== undefined) merged.dpUpdateNoiseMultiplier = parsePositiveNumber('--dp-update-noise-multiplier', v['dp-update-noise-multiplier']);
  if (v['dp-client-sampling-rate'] !== undefined) merged.dpClientSamplingRate = parsePositiveNumber('--dp-client-sampling-rate', v['dp-client-sampling-rate'], 1);
  if (v['dp-epsilon'] !== undefined) merged.dpEpsilon = parsePositiveNumber('--dp-epsilon', v['dp-epsilon']);
  if (v['dp-delta'] !== undefined) merged.dpDelta = parseDelta(v['dp-delta']);
  if (v['tls-cert'] !== undefined) merged.tlsCert = v['tls-cert'];
  if (v['tls-key'] !== undefined) merged.tlsKey = v['tls-key'];
  if (v['tls-client-ca'] !== undefined) merged.tlsClientCa = v['tls-client-ca'];
  if (v.fresh) merged.fresh = true;
  if (v['init-from'] !== undefined) {
    if (v['init-from'].trim() === '') fail('--init-from', 'a checkpoint file or a run directory', v['init-from']);
    merged.initFrom = v['init-from'];
  }
  if (v['audit-dir'] !== undefined) merged.auditDir = v['audit-dir'];
  if (v['ready-file'] !== undefined) merged.readyFile = v['ready-file'];
  if (v['linger-ms'] !== undefined) merged.lingerMs = parseTimeout('--linger-ms', v['linger-ms'], 0);
  if (v['log-level'] !== undefined) {
    if (!isLogLevel(v['log-level'])) fail('--log-level', 'debug|info|warn|error|silent', v['log-level']);
    merged.logLevel = v['log-level'];
  }
  if (v['log-format'] !== undefined) merged.logFormat = parseOneOf('--log-format', v['log-format'], ['pretty', 'json'] as const);
  checkStrategy(merged);
  if (merged.minAvailable < merged.minClients) fail('--min-available', `at least --min-clients (${merged.minClients})`, merged.minAvailable);
  if (merged.labels.length < 2) fail('--labels', 'at least two labels', merged.labels);
  checkSecureAggregation(merged);
  checkDifferentialPrivacy(merged, v['dp-delta'] !== undefined);
  if (new Set(merged.labels).size !== merged.labels.length) fail('--labels', 'distinct labels', merged.labels);
  if (Boolean(merged.tlsCert) !== Boolean(merged.tlsKey)) fail('--tls-cert/--tls-key', 'both or neither', { cert: merged.tlsCert, key: merged.tlsKey });
  if (merged.tlsClientCa && !merged.tlsCert) fail('--tls-client-ca', 'TLS to be on (--tls-cert and --tls-key)', merged.tlsClientCa);
  checkSecrets(merged);
  return merged;
}
