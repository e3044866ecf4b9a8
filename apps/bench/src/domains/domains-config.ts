// `bench domains` flags, parsed and validated once here; everything below gets plain values. The defaults are
// the ones chosen on a validation slice of the shared reviews' training data (docs/results/domains/tuning.md).
import { parseArgs } from 'node:util';
import { configError, isLogLevel, parseInteger, parseOneOf, parsePositiveNumber, type LogLevel } from '@fedtl/util';

export const METHOD_NAMES = ['local', 'centralized', 'fedavg', 'fedavg-secagg', 'fedavgm', 'fedadam', 'personalized', 'leave-one-out'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export interface ModelOptions {
  adapterWidth: number;
  head: 'linear' | 'mlp';
  headHidden: number;
}

export interface TrainingOptions {
  localEpochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: 'sgd' | 'adam';
}

/** The server optimisers of the fedavgm and fedadam rows (the coordinator's --strategy and --server-* flags). */
export interface ServerOptimizerOptions {
  fedavgm: { serverLearningRate: number; serverMomentum: number };
  fedadam: { serverLearningRate: number; beta1: number; beta2: number; tau: number };
}

/** What `bench domains` and `bench strategies` both take: the data, how it is scored, the model and its training. */
export interface SharedBenchOptions {
  dataDir: string;
  /** Empty: every domain in dataDir that has both a train and a test file. */
  domains: string[];
  rounds: number;
  out: string;
  cacheDir: string;
  /** Evaluate on a held-out slice of each training file instead of the test files (for choosing defaults). */
  validate: boolean;
  validationFraction: number;
  backbone: string;
  model: ModelOptions;
  training: TrainingOptions;
  serverOptimizers: ServerOptimizerOptions;
  embedThreads: number;
  logLevel: LogLevel;
}

export interface DomainsOptions extends SharedBenchOptions {
  /** One budget runs once; several run as a sweep. */
  labelsPerClient: number[];
  seed: number;
  methods: MethodName[];
  personalizeEpochs: number;
}

export const DOMAINS_DEFAULTS = {
  labelsPerClient: [50],
  rounds: 20,
  seed: 7,
  cacheDir: '.fedtl-cache',
  validationFraction: 0.2,
  backbone: 'use-lite',
  model: { adapterWidth: 64, head: 'linear', headHidden: 64 } as ModelOptions,
  training: { localEpochs: 1, batchSize: 16, learningRate: 0.003, optimizer: 'adam' } as TrainingOptions,
  serverOptimizers: {
    fedavgm: { serverLearningRate: 0.2, serverMomentum: 0.8 },
    fedadam: { serverLearningRate: 0.003, beta1: 0.9, beta2: 0.99, tau: 1e-3 },
  } as ServerOptimizerOptions,
  personalizeEpochs: 20,
} as const;

/** The help lines of SHARED_FLAGS, for every suite that takes them. */
export const SHARED_USAGE = `  --data-dir DIR             folder of DOMAIN.train.jsonl and DOMAIN.test.jsonl files (fields text, label)
  --domains a,b,c            domains to use, one client each (default: all in DIR)
  --rounds R                 federated rounds (default ${DOMAINS_DEFAULTS.rounds})
  --validate                 hold out --validation-fraction of each training file and report on it, not on the
                             test files: the mode for choosing hyperparameters
  --validation-fraction F    default ${DOMAINS_DEFAULTS.validationFraction}
  --cache-dir DIR            feature cache shared by the bench and its clients (default ${DOMAINS_DEFAULTS.cacheDir})
  --backbone SPEC            default ${DOMAINS_DEFAULTS.backbone}
  --adapter-width N          default ${DOMAINS_DEFAULTS.model.adapterWidth}
  --head linear|mlp          default ${DOMAINS_DEFAULTS.model.head} (--head-hidden N, default ${DOMAINS_DEFAULTS.model.headHidden})
  --local-epochs N           epochs per round on each client (default ${DOMAINS_DEFAULTS.training.localEpochs}); local and centralized
                             train rounds x local epochs, the same passes over the data
  --batch-size N             default ${DOMAINS_DEFAULTS.training.batchSize}
  --learning-rate X          Adam learning rate (default ${DOMAINS_DEFAULTS.training.learningRate})
  --optimizer sgd|adam       default ${DOMAINS_DEFAULTS.training.optimizer}
  --fedavgm-server-lr X      fedavgm: server learning rate (default ${DOMAINS_DEFAULTS.serverOptimizers.fedavgm.serverLearningRate})
  --fedavgm-momentum B       fedavgm: server momentum in [0, 1) (default ${DOMAINS_DEFAULTS.serverOptimizers.fedavgm.serverMomentum})
  --fedadam-server-lr X      fedadam: server learning rate (default ${DOMAINS_DEFAULTS.serverOptimizers.fedadam.serverLearningRate})
  --fedadam-tau T            fedadam: adaptivity (default ${DOMAINS_DEFAULTS.serverOptimizers.fedadam.tau}; β1 ${DOMAINS_DEFAULTS.serverOptimizers.fedadam.beta1}, β2 ${DOMAINS_DEFAULTS.serverOptimizers.fedadam.beta2})
  --embed-threads N          embedding worker threads (default: one per core)
  --log-level LEVEL          debug|info|warn|error (default info)
`;

export const DOMAINS_USAGE = `Usage: npm run bench -- domains --data-dir DIR --out OUT [options]

  --out OUT                  where report.json, report.md and accuracy.svg go (a sweep: one folder per budget)
  --labels-per-client N      labelled training examples per client, stratified and seeded (default ${DOMAINS_DEFAULTS.labelsPerClient.join(',')});
                             a list such as 50,200,1600 runs a sweep and plots accuracy against the budget
  --seed S                   seed of sampling, initialisation and training (default ${DOMAINS_DEFAULTS.seed})
  --methods a,b              subset of ${METHOD_NAMES.join(',')} (default: all)
                             fedavg-secagg: the fedavg federation under secure aggregation (coordinator
                             --secure-aggregation, every client --require-secure-aggregation); with fedavg in
                             the same run the report gives the largest per-domain, per-round accuracy difference
                             between the two and the bytes and seconds per round of each
                             (--methods fedavg,fedavg-secagg runs just that comparison)
  --personalize-epochs N     epochs of private head fine-tuning for the personalized method (default ${DOMAINS_DEFAULTS.personalizeEpochs})
${SHARED_USAGE}`;

/** The flags of SharedBenchOptions (and --help), for node:util parseArgs. */
export const SHARED_FLAGS = {
  'data-dir': { type: 'string' },
  out: { type: 'string' },
  domains: { type: 'string' },
  rounds: { type: 'string' },
  validate: { type: 'boolean' },
  'validation-fraction': { type: 'string' },
  'cache-dir': { type: 'string' },
  backbone: { type: 'string' },
  'adapter-width': { type: 'string' },
  head: { type: 'string' },
  'head-hidden': { type: 'string' },
  'local-epochs': { type: 'string' },
  'batch-size': { type: 'string' },
  'learning-rate': { type: 'string' },
  optimizer: { type: 'string' },
  'fedavgm-server-lr': { type: 'string' },
  'fedavgm-momentum': { type: 'string' },
  'fedadam-server-lr': { type: 'string' },
  'fedadam-tau': { type: 'string' },
  'embed-threads': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** What parseArgs gives for SHARED_FLAGS: strings, and booleans for the boolean flags. */
export type SharedFlagValues = { [K in keyof typeof SHARED_FLAGS]?: (typeof SHARED_FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

const FLAGS = {
  ...SHARED_FLAGS,
  'labels-per-client': { type: 'string' },
  seed: { type: 'string' },
  methods: { type: 'string' },
  'personalize-epochs': { type: 'string' },
} as const;

/** Throws FEDTL_ERR_BAD_CONFIG: `name` expected `expected`, got `got`. */
export function bad(name: string, expected: string, got: unknown): never {
  throw configError(name, expected, got);
}

/** A finite number > 0 (or >= 0 with `zero`) and below `below`; `fallback` when the flag is absent. */
export function numberIn(name: string, value: string | undefined, fallback: number, zero: boolean, below = Infinity): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  const ok = value.trim() !== '' && Number.isFinite(n) && (zero ? n >= 0 : n > 0) && n < below;
  if (!ok) bad(name, `a number in ${zero ? '[0' : '(0'}, ${below})`, value);
  return n;
}

/** The non-empty items of a comma-separated list, trimmed. */
export function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * SharedBenchOptions from parsed flags, defaults filled in. Throws FEDTL_ERR_BAD_CONFIG naming the flag, what it
 * expects and what came (--data-dir and --out are required).
 */
export function parseSharedOptions(v: SharedFlagValues): SharedBenchOptions {
  if (!v['data-dir']) bad('--data-dir', 'a folder of DOMAIN.train.jsonl / DOMAIN.test.jsonl files', v['data-dir']);
  if (!v.out) bad('--out', 'an output folder', v.out);
  const learningRate = v['learning-rate'] === undefined ? DOMAINS_DEFAULTS.training.learningRate : parsePositiveNumber('--learning-rate', v['learning-rate']);
  const validationFraction = v['validation-fraction'] === undefined ? DOMAINS_DEFAULTS.validationFraction : Number(v['validation-fraction']);
  if (!(validationFraction > 0 && validationFraction < 1)) bad('--validation-fraction', 'a number in (0, 1)', v['validation-fraction']);
  const head = parseOneOf('--head', v.head ?? DOMAINS_DEFAULTS.model.head, ['linear', 'mlp'] as const);
  const optimizer = parseOneOf('--optimizer', v.optimizer ?? DOMAINS_DEFAULTS.training.optimizer, ['sgd', 'adam'] as const);
  const logLevel = v['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) bad('--log-level', 'debug|info|warn|error', logLevel);
  return {
    dataDir: v['data-dir'],
    out: v.out,
    domains: v.domains === undefined ? [] : list(v.domains),
    rounds: v.rounds === undefined ? DOMAINS_DEFAULTS.rounds : parseInteger('--rounds', v.rounds, 1),
    validate: v.validate ?? false,
    validationFraction,
    cacheDir: v['cache-dir'] ?? DOMAINS_DEFAULTS.cacheDir,
    backbone: v.backbone ?? DOMAINS_DEFAULTS.backbone,
    model: {
      adapterWidth: v['adapter-width'] === undefined ? DOMAINS_DEFAULTS.model.adapterWidth : parseInteger('--adapter-width', v['adapter-width'], 0),
      head,
      headHidden: v['head-hidden'] === undefined ? DOMAINS_DEFAULTS.model.headHidden : parseInteger('--head-hidden', v['head-hidden'], 1),
    },
    training: {
      localEpochs: v['local-epochs'] === undefined ? DOMAINS_DEFAULTS.training.localEpochs : parseInteger('--local-epochs', v['local-epochs'], 1),
      batchSize: v['batch-size'] === undefined ? DOMAINS_DEFAULTS.training.batchSize : parseInteger('--batch-size', v['batch-size'], 1),
      learningRate,
      optimizer,
    },
    serverOptimizers: {
      fedavgm: {
        serverLearningRate: numberIn('--fedavgm-server-lr', v['fedavgm-server-lr'], DOMAINS_DEFAULTS.serverOptimizers.fedavgm.serverLearningRate, false),
        serverMomentum: numberIn('--fedavgm-momentum', v['fedavgm-momentum'], DOMAINS_DEFAULTS.serverOptimizers.fedavgm.serverMomentum, true, 1),
      },
      fedadam: {
        ...DOMAINS_DEFAULTS.serverOptimizers.fedadam,
        serverLearningRate: numberIn('--fedadam-server-lr', v['fedadam-server-lr'], DOMAINS_DEFAULTS.serverOptimizers.fedadam.serverLearningRate, false),
        tau: numberIn('--fedadam-tau', v['fedadam-tau'], DOMAINS_DEFAULTS.serverOptimizers.fedadam.tau, false),
      },
    },
    embedThreads: v['embed-threads'] === undefined ? 0 : parseInteger('--embed-threads', v['embed-threads'], 1),
    logLevel,
  };
}

export function parseDomainsArgs(argv: string[]): DomainsOptions | 'help' {
  const { values: v } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  if (v.help) return 'help';
  const shared = parseSharedOptions(v);
  const budgets = v['labels-per-client'] === undefined ? [...DOMAINS_DEFAULTS.labelsPerClient] : list(v['labels-per-client']).map((n) => parseInteger('--labels-per-client', n, 2));
  if (budgets.length === 0 || new Set(budgets).size !== budgets.length) bad('--labels-per-client', 'distinct integers', v['labels-per-client']);
  const methods = v.methods === undefined ? [...METHOD_NAMES] : list(v.methods);
  for (const method of methods) if (!(METHOD_NAMES as readonly string[]).includes(method)) bad('--methods', `a subset of ${METHOD_NAMES.join(',')}`, method);
  return {
    ...shared,
    labelsPerClient: budgets,
    seed: v.seed === undefined ? DOMAINS_DEFAULTS.seed : parseInteger('--seed', v.seed, 0),
    methods: METHOD_NAMES.filter((name) => methods.includes(name)),
    personalizeEpochs: v['personalize-epochs'] === undefined ? DOMAINS_DEFAULTS.personalizeEpochs : parseInteger('--personalize-epochs', v['personalize-epochs'], 1),
  };
}
