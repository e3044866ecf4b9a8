// `fedtl client`: every option declared once (type, default, range, environment variable, help). The flags,
// FEDTL_* variables, --config files, --help and --print-config all come from this table; config.ts turns the
// resolved values into a ClientConfig and checks what involves several options at once (one data source, the
// two modes, a secret given two ways). Kept free of heavy imports so that `fedtl client --help` starts fast.
import {
  booleanOption,
  choiceOption,
  integerOption,
  numberOption,
  stringOption,
  LOG_OPTIONS,
  type OptionDeclarations,
} from '@fedtl/util/options';
import { redactUrl } from '@fedtl/util';

/** Ten minutes without a session with the coordinator, then the client gives up. */
export const DEFAULT_GIVE_UP_AFTER_MS = 600_000;

/** setTimeout's limit: a longer delay would fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Defaults of --adapt-only, those of the few-shot benchmark (chosen on validation slices, docs/results/few-shot):
 * 10 full-batch SGD steps; the step size is the run's Per-FedAvg α when the checkpoint records one, and otherwise
 * 0.01, the best step size from FedAvg's weights (larger ones undo what the federation learned).
 */
export const ADAPT_ONLY_DEFAULTS = { steps: 10, maxSteps: 100_000, learningRate: 0.01, optimizer: 'sgd' } as const;

/** The δ of --dp-epsilon, and of the ε logged after each round, unless --dp-delta says otherwise. */
export const DEFAULT_DP_DELTA = 1e-5;

const FEDERATION = 'Federation:';
const DATA = 'Data (exactly one of --data, --demo-mailbox, --features):';
const MODEL = 'Model and local work:';
const POLICY =
  'Privacy policy (stated at Join and checked by this client on every round plan; a plan it refuses is answered with ' +
  'FEDTL_ERR_POLICY_REFUSED and not trained on; a run it can never accept is left at once, exit 2):';
const DP =
  'Differential privacy (this client trains by DP-SGD, or clips and noises its update by DP-FedAvg, whenever a plan says so; ' +
  'these options keep account of what DP-SGD spends on this organisation\'s data and cap it; evaluation metrics are sent as they are):';
const ADAPT =
  'Adapting a published model to this client\'s domain, sending nothing (no --coordinator; only the data, model and log ' +
  'options apply):';

export const CLIENT_OPTIONS = {
  coordinator: stringOption({ help: 'the coordinator\'s URL, without a path (http://HOST:PORT, https:// for TLS); required unless --adapt-only', valueName: 'URL', group: FEDERATION, redact: redactUrl }),
  clientId: stringOption({ help: 'this organisation\'s id: 1-64 letters, digits, ".", "_" or "-"; required unless --adapt-only', defaultText: 'adapt-only with --adapt-only', valueName: 'ID', group: FEDERATION }),
  token: stringOption({ help: 'the federation\'s shared secret (visible in the process list as a flag: prefer the environment or --token-file)', secret: true, valueName: 'SECRET', group: FEDERATION }),
  tokenFile: stringOption({ help: 'file holding the shared secret (Docker and Kubernetes secrets are files)', valueName: 'FILE', group: FEDERATION }),
  tlsCa: stringOption({ help: 'CA certificate for a coordinator with a self-signed certificate', valueName: 'FILE', group: FEDERATION }),
  tlsCert: stringOption({ help: 'client certificate for mutual TLS (with --tls-key)', valueName: 'FILE', group: FEDERATION }),
  tlsKey: stringOption({ help: 'the client certificate\'s private key', valueName: 'FILE', group: FEDERATION }),
  ackTimeoutMs: integerOption({ help: 'how long to wait for the coordinator to acknowledge', min: 1, max: MAX_TIMEOUT_MS, default: 60_000, valueName: 'MS', group: FEDERATION }),
  giveUpAfterMs: integerOption({
    help: 'stop with FEDTL_ERR_UNREACHABLE (exit 3) after this long without a session with the coordinator, counted from the last time it was joined or from start',
    min: 1,
    max: MAX_TIMEOUT_MS,
    default: DEFAULT_GIVE_UP_AFTER_MS,
    valueName: 'MS',
    group: FEDERATION,
  }),
  localBaselineEpochs: integerOption({ help: 'also train a local-only model for N epochs and report its accuracy (0: off)', min: 0, default: 0, group: FEDERATION }),
  personalizeEpochs: integerOption({ help: 'also report a personalised model: the global one with its head fine-tuned locally for N epochs (0: off)', min: 0, default: 0, group: FEDERATION }),

  data: stringOption({ help: 'your labelled text: .jsonl, .csv or .tsv', valueName: 'FILE', group: DATA }),
  testData: stringOption({ help: 'held-out test file for --data (otherwise --test-fraction of it, stratified)', valueName: 'FILE', group: DATA }),
  testFraction: numberOption({ help: 'share of --data held out for testing without --test-data', min: 0, max: 1, minExclusive: true, maxExclusive: true, default: 0.2, valueName: 'F', group: DATA }),
  textField: stringOption({ help: 'field or column of --data with the text', default: 'text', valueName: 'NAME', group: DATA }),
  labelField: stringOption({ help: 'field or column of --data with the label', default: 'label', valueName: 'NAME', group: DATA }),
  demoMailbox: integerOption({ help: 'mailbox K (1-based) of the SpamAssassin demo organisations shipped with npm', min: 1, valueName: 'K', group: DATA }),
  demoOrganisations: integerOption({ help: 'how many organisations the demo corpus is split into', min: 1, default: 3, group: DATA }),
  demoPerOrganisation: integerOption({ help: 'e-mails per demo organisation', min: 10, default: 300, group: DATA }),
  features: stringOption({ help: 'precomputed feature vectors (JSON; with --backbone precomputed:DIM)', valueName: 'FILE', group: DATA }),

  backbone: stringOption({ help: 'use-lite | tfjs-model:DIR | precomputed:DIM (must match the coordinator\'s)', default: 'use-lite', valueName: 'SPEC', group: MODEL }),
  backend: choiceOption(['tensorflow', 'wasm', 'cpu'] as const, { help: 'TF.js backend', defaultText: 'the best one installed', group: MODEL }),
  cacheDir: stringOption({ help: 'feature cache, one per client process', defaultText: '.fedtl-cache/CLIENT-ID', valueName: 'DIR', group: MODEL }),
  embedThreads: integerOption({ help: 'worker threads for embedding', min: 1, defaultText: 'one per core', group: MODEL }),
  trainLimit: integerOption({ help: 'train on at most N labelled examples, stratified by label', min: 1, defaultText: 'all', group: MODEL }),
  seed: integerOption({ help: 'seed for the local baseline, the test split and --train-limit', min: 0, default: 7, group: MODEL }),

  requireSecureAggregation: booleanOption({ help: 'send updates only masked, under secure aggregation (secagg/v1)', group: POLICY }),
  minOtherContributors: integerOption({
    help: 'only in sums of at least K other clients\' updates: the round\'s threshold t must be at least K + 1 (above 0 implies --require-secure-aggregation)',
    min: 0,
    default: 0,
    valueName: 'K',
    group: POLICY,
  }),
  minExamples: integerOption({ help: 'only send updates computed from at least N local training examples', min: 1, default: 1, group: POLICY }),
  minBatchSize: integerOption({ help: 'refuse plans with a batch size below B', min: 1, default: 1, valueName: 'B', group: POLICY }),
  maxRounds: integerOption({ help: 'send an update in at most R rounds of a run (0: no cap)', min: 0, default: 0, valueName: 'R', group: POLICY }),

  dpEpsilon: numberOption({
    help: 'budget: refuse (FEDTL_ERR_PRIVACY_BUDGET) a plan that would take the ledger over ε = E at --dp-delta, and any plan without DP-SGD or without noise (ε = ∞); checked plan by plan',
    min: 0,
    minExclusive: true,
    valueName: 'E',
    group: DP,
  }),
  dpDelta: numberOption({ help: 'the δ of the budget and of the ε logged after each round, well below 1 / your training examples', min: 0, max: 0.01, minExclusive: true, maxExclusive: true, default: DEFAULT_DP_DELTA, valueName: 'D', group: DP }),
  dpLedger: stringOption({
    help: 'what DP-SGD has spent on this data, kept across runs and written before each update leaves; use the same file for every run on the same data, whatever its client id (a corrupt ledger stops the client, exit 2)',
    defaultText: 'CACHE-DIR/privacy-ledger-CLIENT-ID.json',
    valueName: 'FILE',
    group: DP,
  }),

  adaptOnly: booleanOption({
    help: 'read the global weights from --init-from, take --steps full-batch gradient steps on the labelled examples (with --train-limit K for a K-shot draw), print the test accuracy before and after, and exit 0; no connection is opened',
    group: ADAPT,
  }),
  initFrom: stringOption({ help: 'a checkpoint file (round-NNNNNN.ckpt) or a coordinator\'s run directory (its newest)', valueName: 'PATH', group: ADAPT }),
  steps: integerOption({ help: 'gradient steps', min: 1, max: ADAPT_ONLY_DEFAULTS.maxSteps, default: ADAPT_ONLY_DEFAULTS.steps, valueName: 'S', group: ADAPT }),
  adaptLearningRate: numberOption({
    help: 'step size',
    min: 0,
    minExclusive: true,
    defaultText: `the run's Per-FedAvg α, recorded in its checkpoints; for a run of another strategy ${ADAPT_ONLY_DEFAULTS.learningRate}`,
    valueName: 'A',
    group: ADAPT,
  }),
  adaptOptimizer: choiceOption(['sgd', 'adam'] as const, { help: 'the kind of step (sgd is the one Per-FedAvg meta-learns for)', default: ADAPT_ONLY_DEFAULTS.optimizer, group: ADAPT }),
  saveAdapted: stringOption({ help: 'write the adapted weights to FILE, a new file (a checkpoint; --init-from reads it)', valueName: 'FILE', group: ADAPT }),
  ...LOG_OPTIONS,
} satisfies OptionDeclarations;
