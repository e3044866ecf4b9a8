// `fedtl coordinator`: every option declared once (type, default, range, environment variable, help). The flags,
// FEDTL_* variables, --config files, --help and --print-config all come from this table; config.ts turns the
// resolved values into a CoordinatorConfig and checks what involves several options at once. Kept free of heavy
// imports so that `fedtl coordinator --help` starts fast.
import {
  booleanOption,
  choiceOption,
  integerOption,
  numberOption,
  stringListOption,
  stringOption,
  LOG_OPTIONS,
  type OptionDeclarations,
} from '@fedtl/util/options';
import { UPDATE_COMPRESSION_SYNTAX, canonicalUpdateCompression, parseUpdateCompression } from '@fedtl/protocol/compression';
import { loraOptions } from '@fedtl/model';
import { NORM_ACTIONS } from './norm-bound';

export const STRATEGY_NAMES = ['fedavg', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad', 'fedprox', 'per-fedavg', 'median', 'trimmed-mean', 'krum', 'multikrum'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** setTimeout's limit: a longer delay would fire at once. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const SERVER = 'Run and aggregation:';
const ROUNDS = 'Rounds and deadlines:';
const MODEL = 'Model and local training (sent to every client in the round plan):';
const BOUNDS = 'Bounds on clients:';
const ACCESS = 'Access:';
const PRIVACY = 'Secure aggregation and differential privacy:';
const OUTPUT = 'Output:';

function milliseconds(help: string, min: number, defaultMs: number) {
  return integerOption({ help, min, max: MAX_TIMEOUT_MS, default: defaultMs, valueName: 'MS', group: ROUNDS });
}

/** A decay rate (momentum, β₁, β₂): a number in [0, 1). */
function decayRate(help: string, defaultText: string) {
  return numberOption({ help, min: 0, max: 1, maxExclusive: true, valueName: 'B', group: SERVER, defaultText });
}

export const COORDINATOR_OPTIONS = {
  host: stringOption({ help: 'address to listen on (0.0.0.0 for other machines)', default: '127.0.0.1', valueName: 'HOST', group: SERVER }),
  port: integerOption({ help: 'port (0 picks a free one)', min: 0, max: 65535, default: 8080, group: SERVER }),
  rounds: integerOption({ help: 'federated rounds to run in total (a resumed run continues up to this number)', min: 1, default: 5, group: SERVER }),
  minClients: integerOption({ help: 'quorum: the fewest updates that make a round', min: 1, default: 2, group: SERVER }),
  minAvailable: integerOption({ help: 'clients that must be connected before a round starts', min: 1, defaultText: '--min-clients', group: SERVER }),
  fractionFit: numberOption({ help: 'fraction of connected clients sampled per round', min: 0, minExclusive: true, max: 1, default: 1, valueName: 'F', group: SERVER }),
  strategy: choiceOption(STRATEGY_NAMES, {
    help:
      'how a round\'s updates become the next weights: fedavg, fedavgm (server momentum), fedadam, fedyogi, fedadagrad act on the ' +
      'example-weighted mean delta; fedprox adds a proximal term to every local objective; per-fedavg meta-learns an ' +
      'initialisation a new client adapts in a few steps (fedtl client --adapt-only); median, trimmed-mean, krum, multikrum ' +
      'are robust to faulty clients and need each update (not with --secure-aggregation)',
    default: 'fedavg',
    valueName: 'NAME',
    group: SERVER,
  }),
  serverLearningRate: numberOption({ help: 'server step on the aggregate delta', min: 0, minExclusive: true, defaultText: '1; fedadam, fedadagrad 0.1; fedyogi 0.01', group: SERVER }),
  serverMomentum: decayRate('fedavgm: momentum in [0, 1)', '0.9'),
  serverBeta1: decayRate('fedadam, fedyogi, fedadagrad: first-moment decay in [0, 1)', '0.9; fedadagrad 0'),
  serverBeta2: decayRate('fedadam, fedyogi: second-moment decay in [0, 1)', '0.99'),
  serverTau: numberOption({ help: 'fedadam, fedyogi, fedadagrad: adaptivity τ > 0', defaultText: '1e-9; fedyogi 1e-3', min: 0, minExclusive: true, valueName: 'T', group: SERVER }),
  proximalMu: numberOption({ help: 'fedprox: μ ≥ 0 of the term μ/2·‖w − w_global‖² in every local loss (0 trains as fedavg)', defaultText: '0.01', min: 0, valueName: 'MU', group: SERVER }),
  metaInnerLearningRate: numberOption({
    help: 'per-fedavg: α > 0, the SGD step of each inner adaptation, recorded in checkpoints for --adapt-only',
    defaultText: '0.2',
    min: 0,
    minExclusive: true,
    valueName: 'A',
    group: SERVER,
  }),
  trimFraction: numberOption({ help: 'trimmed-mean: fraction trimmed from each end of every coordinate (--min-clients must make ⌊B·n⌋ ≥ 1)', defaultText: '0.2', min: 0, max: 0.5, minExclusive: true, maxExclusive: true, valueName: 'B', group: SERVER }),
  byzantineClients: integerOption({ help: 'krum, multikrum: faulty clients tolerated per round (--min-clients at least 2F + 3)', defaultText: '1', min: 0, valueName: 'F', group: SERVER }),
  multikrumSelected: integerOption({ help: 'multikrum: updates selected and averaged', defaultText: "n − F of the round's n", min: 1, valueName: 'M', group: SERVER }),

  roundTimeoutMs: milliseconds('deadline for a round\'s updates', 1, 300_000),
  evalTimeoutMs: milliseconds('deadline for evaluation reports', 1, 120_000),
  maxRoundAttempts: integerOption({ help: 'attempts at a round that misses its quorum', min: 1, default: 3, group: ROUNDS }),
  roundRetryDelayMs: milliseconds('pause before re-running a round that missed its quorum; doubles with each attempt, capped at 60 s', 0, 2_000),
  ackTimeoutMs: milliseconds('how long a client may take to acknowledge a plan, an evaluation request or the verdict (not the round deadline)', 1, 30_000),
  rejoinGraceMs: milliseconds('how long a client that dropped mid-round may take to come back', 0, 15_000),
  heartbeatIntervalMs: milliseconds('connection liveness ping interval, independent of the round deadline', 1, 10_000),
  heartbeatTimeoutMs: milliseconds('connection liveness ping timeout', 1, 20_000),

  // Honest updates of the default plans measured 6-12 (use-lite 512-d features, adapter 64, Adam 0.003,
  // 3 epochs, 100-5,000 examples): 100 leaves them untouched with room for larger rates and longer training.
  maxUpdateNorm: numberOption({ help: 'largest L2 norm of one client\'s update, over all its tensors', min: 0, minExclusive: true, default: 100, group: BOUNDS }),
  updateNormAction: choiceOption(NORM_ACTIONS, { help: 'clip a larger update down to the bound, or refuse it', default: 'clip', group: BOUNDS }),
  maxClientShare: numberOption({ help: 'largest share of a round\'s weight one client may carry; 1 turns the cap off (a round of k clients holds each to max(F, 1/k))', min: 0, minExclusive: true, max: 1, default: 0.5, valueName: 'F', group: BOUNDS }),
  maxDeclaredExamples: integerOption({ help: 'largest training or test example count a client may declare', min: 1, default: 1_000_000, group: BOUNDS }),
  maxClients: integerOption({ help: 'joined clients at most', min: 1, default: 1000, group: BOUNDS }),
  maxConnections: integerOption({ help: 'open connections at most', min: 1, default: 2000, group: BOUNDS }),
  maxConnectionsPerAddress: integerOption({ help: 'open connections at most from one address', min: 1, default: 16, group: BOUNDS }),
  maxAuthFailures: integerOption({ help: 'failed authentications per address per window before it is refused unread', min: 1, default: 10, group: BOUNDS }),
  authFailureWindowMs: integerOption({ help: 'that window', min: 1000, max: MAX_TIMEOUT_MS, default: 60_000, valueName: 'MS', group: BOUNDS }),
  maxMissedRounds: integerOption({ help: 'a selected client that delivers nothing K rounds in a row is disconnected for the run', min: 1, default: 2, valueName: 'K', group: BOUNDS }),
  maxPlanResends: integerOption({ help: 'times the round in progress is re-sent to one client rejoining during it', min: 0, default: 2, group: BOUNDS }),

  backbone: stringOption({ help: 'use-lite | tfjs-model:DIR | precomputed:DIM', default: 'use-lite', valueName: 'SPEC', group: MODEL }),
  labels: stringListOption({ help: 'the federation\'s label set', minItems: 2, default: ['ham', 'spam'], valueName: 'A,B,…', group: MODEL }),
  adapterWidth: integerOption({ help: 'adapter bottleneck width, 0 for none', min: 0, default: 64, group: MODEL }),
  head: choiceOption(['linear', 'mlp'] as const, { help: 'classification head', default: 'linear', group: MODEL }),
  headHidden: integerOption({ help: 'hidden width of the mlp head', min: 1, default: 64, group: MODEL }),
  ...loraOptions(MODEL),
  localEpochs: integerOption({ help: 'local epochs per round', min: 1, default: 3, group: MODEL }),
  batchSize: integerOption({ help: 'local batch size', min: 1, default: 32, group: MODEL }),
  learningRate: numberOption({ help: 'local learning rate', min: 0, minExclusive: true, default: 0.003, group: MODEL }),
  optimizer: choiceOption(['sgd', 'adam'] as const, { help: 'local optimiser', default: 'adam', group: MODEL }),
  seed: integerOption({ help: 'base seed for initialisation, sampling and client shuffles', min: 0, default: 42, group: MODEL }),
  compression: stringOption({
    help:
      'how clients encode their updates: float32 (exact), float16 (half the bytes), int8 (a quarter; one scale per tensor), ' +
      'topk:F (the fraction F of each tensor\'s values of largest magnitude, the rest carried to later rounds by the client: error feedback). ' +
      'Not with --secure-aggregation; topk not with the robust strategies',
    default: 'float32',
    accepts: (text: string) => parseUpdateCompression(text) !== undefined,
    expected: UPDATE_COMPRESSION_SYNTAX,
    normalize: canonicalUpdateCompression,
    valueName: 'ENCODING',
    group: MODEL,
  }),

  token: stringOption({ help: 'the shared secret clients must present (visible in the process list as a flag: prefer the environment or --token-file); at least 16 characters, required unless --host is loopback', secret: true, valueName: 'SECRET', group: ACCESS }),
  tokenFile: stringOption({ help: 'file holding the shared secret (Docker and Kubernetes secrets are files)', valueName: 'FILE', group: ACCESS }),
  tokenStore: stringOption({ help: 'per-client tokens made by `fedtl token issue`', defaultText: '<out-dir>/tokens.json when it exists', valueName: 'FILE', group: ACCESS }),
  allowUnauthenticated: booleanOption({ help: 'listen beyond loopback without a token (not recommended; warned about)', group: ACCESS }),
  operatorToken: stringOption({ help: 'secret for the full status API, /metrics and the dashboard; federation-token holders see run-level aggregates only', secret: true, valueName: 'SECRET', group: ACCESS }),
  operatorTokenFile: stringOption({ help: 'file holding the operator secret', valueName: 'FILE', group: ACCESS }),
  tlsCert: stringOption({ help: 'serve over TLS (wss://) with this certificate (with --tls-key)', valueName: 'FILE', group: ACCESS }),
  tlsKey: stringOption({ help: 'the certificate\'s private key', valueName: 'FILE', group: ACCESS }),
  tlsClientCa: stringOption({ help: 'require client certificates signed by these CAs (mutual TLS)', valueName: 'FILE', group: ACCESS }),

  secureAggregation: booleanOption({ help: 'the coordinator learns only each round\'s sum of updates (Bonawitz et al. 2017)', group: PRIVACY }),
  secaggThreshold: integerOption({ help: 'fewest clients unmasked together; 0: a majority of the selected, at least 2', min: 0, default: 0, valueName: 'T', group: PRIVACY }),
  secaggPhaseTimeoutMs: integerOption({ help: 'deadline of each secure-aggregation key or unmasking phase', min: 100, max: MAX_TIMEOUT_MS, default: 30_000, valueName: 'MS', group: PRIVACY }),
  dpRecordClipNorm: numberOption({ help: 'record-level DP: every client trains by DP-SGD, each example\'s gradient clipped to C', min: 0, minExclusive: true, valueName: 'C', group: PRIVACY }),
  dpRecordNoiseMultiplier: numberOption({ help: 'record-level DP: noise σ·C on each batch\'s clipped gradient sum', min: 0, minExclusive: true, valueName: 'SIGMA', group: PRIVACY }),
  dpUpdateClipNorm: numberOption({ help: 'client-level DP (DP-FedAvg): each client\'s update clipped to S', min: 0, minExclusive: true, valueName: 'S', group: PRIVACY }),
  dpUpdateNoiseMultiplier: numberOption({ help: 'client-level DP: noise Z·S on the sum of the updates', min: 0, minExclusive: true, valueName: 'Z', group: PRIVACY }),
  dpClientSamplingRate: numberOption({ help: 'client-level DP: each client is in a round\'s Poisson sample with probability Q', defaultText: '1', min: 0, minExclusive: true, max: 1, valueName: 'Q', group: PRIVACY }),
  dpEpsilon: numberOption({
    help: 'the run\'s privacy budget ε at --dp-delta: record-level, a client one more round would take over E is no longer selected; client-level, a round that would pass E is refused and the run stops',
    min: 0,
    minExclusive: true,
    valueName: 'E',
    group: PRIVACY,
  }),
  dpDelta: numberOption({ help: 'δ of the budget and of every ε the run reports', min: 0, minExclusive: true, max: 0.01, maxExclusive: true, default: 1e-5, valueName: 'D', group: PRIVACY }),

  outDir: stringOption({ help: 'checkpoints, metrics.jsonl, summary.json and the privacy ledger', default: 'out/coordinator', valueName: 'DIR', group: OUTPUT }),
  fresh: booleanOption({ help: 'ignore existing checkpoints in --out-dir and start over', group: OUTPUT }),
  initFrom: stringOption({
    help: 'start a new run from another run\'s global weights (a checkpoint file or a run\'s --out-dir); only when --out-dir has no checkpoint yet',
    valueName: 'PATH',
    group: OUTPUT,
  }),
  auditDir: stringOption({ help: 'write every accepted update to DIR', valueName: 'DIR', group: OUTPUT }),
  readyFile: stringOption({ help: 'write {"url","pid"} to FILE once listening', valueName: 'FILE', group: OUTPUT }),
  lingerMs: integerOption({ help: 'keep the dashboard (http://HOST:PORT/) up this long after the run', min: 0, max: MAX_TIMEOUT_MS, default: 0, valueName: 'MS', group: OUTPUT }),
  ...LOG_OPTIONS,
} satisfies OptionDeclarations;
