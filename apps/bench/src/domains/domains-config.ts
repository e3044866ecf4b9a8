// `bench domains`: its declared options (domains-options.ts, shared ones in shared-options.ts) turned into the plain
// values everything below receives, with the checks a single declaration cannot make. The defaults are the ones
// chosen on a validation slice of the shared reviews' training data (docs/results/domains/tuning.md).
import { loraSpecOf } from '@fedtl/model';
import type { LoraSpec } from '@fedtl/protocol';
import { configError, type LogFormat, type LogLevel } from '@fedtl/util';
import type { OptionValues } from '@fedtl/util/options';
import { dataAndOut, distinct, subsetOf } from '../option-checks';
import { DOMAINS_DEFAULTS, type SHARED_OPTIONS } from '../shared-options';
import { METHOD_NAMES, type DOMAINS_OPTIONS, type MethodName } from './domains-options';

export { METHOD_NAMES, type MethodName } from './domains-options';
export { DOMAINS_DEFAULTS } from '../shared-options';

export interface ModelOptions {
  adapterWidth: number;
  head: 'linear' | 'mlp';
  headHidden: number;
  /** LoRA inside the use-lite encoder (`bench domains --lora-*`); absent: the backbone stays frozen. */
  lora?: LoraSpec;
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

/** What `bench domains`, `bench strategies` and `bench privacy` take (SHARED_OPTIONS): the data, how it is scored, the model and its training. */
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
  logFormat: LogFormat;
}

export interface DomainsOptions extends SharedBenchOptions {
  /** One budget runs once; several run as a sweep. */
  labelsPerClient: number[];
  seed: number;
  methods: MethodName[];
  personalizeEpochs: number;
  /** Update compressions to compare on the fedavg federation (`--compression` words), float32 first; empty: none. */
  compression: string[];
}

/** What every suite that takes SHARED_OPTIONS resolves them to (the LOG_OPTIONS too). */
type SharedValues = OptionValues<typeof SHARED_OPTIONS> & { logLevel: LogLevel; logFormat: LogFormat };

/**
 * SharedBenchOptions from the resolved values.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG when --data-dir or --out is missing.
 */
export function sharedOptionsFrom(v: SharedValues): SharedBenchOptions {
  return {
    ...dataAndOut(v),
    rounds: v.rounds,
    validate: v.validate,
    validationFraction: v.validationFraction,
    cacheDir: v.cacheDir,
    backbone: v.backbone,
    model: { adapterWidth: v.adapterWidth, head: v.head, headHidden: v.headHidden },
    training: { localEpochs: v.localEpochs, batchSize: v.batchSize, learningRate: v.learningRate, optimizer: v.optimizer },
    serverOptimizers: {
      fedavgm: { serverLearningRate: v.fedavgmServerLr, serverMomentum: v.fedavgmMomentum },
      fedadam: { ...DOMAINS_DEFAULTS.serverOptimizers.fedadam, serverLearningRate: v.fedadamServerLr, tau: v.fedadamTau },
    },
    embedThreads: v.embedThreads ?? 0,
    logLevel: v.logLevel,
    logFormat: v.logFormat,
  };
}

/**
 * The suite's options from its resolved values.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming the flag: --data-dir or --out missing, a budget given twice, an
 *   unknown method.
 */
export function domainsOptionsFrom(v: OptionValues<typeof DOMAINS_OPTIONS>): DomainsOptions {
  const shared = sharedOptionsFrom(v);
  const lora = loraSpecOf(v);
  if (lora && shared.backbone !== 'use-lite') throw configError('--lora-rank', `0 with --backbone ${shared.backbone} (LoRA trains inside the use-lite encoder only)`, lora.rank);
  return {
    ...shared,
    model: { ...shared.model, ...(lora ? { lora } : {}) },
    labelsPerClient: distinct(v.labelsPerClient, '--labels-per-client', 'distinct integers'),
    seed: v.seed,
    methods: subsetOf(v.methods ?? METHOD_NAMES, METHOD_NAMES, '--methods'),
    personalizeEpochs: v.personalizeEpochs,
    compression: compressionsToCompare(v.compression),
  };
}

/** The compressions (canonical words: the declaration normalises them), float32 (the baseline) first, each once; none when not asked. */
function compressionsToCompare(words: readonly string[] | undefined): string[] {
  if (!words || words.length === 0) return [];
  return distinct(['float32', ...words.filter((word) => word !== 'float32')], '--compression', 'distinct compressions');
}
