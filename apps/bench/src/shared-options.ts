// The options several `fedtl bench` suites take (the data, the model, local training, the server optimisers),
// declared once here and spread into each suite's declarations. Bench options read no environment variable
// (`env: null`, as `bench startup`'s): a report records the command line that produced it, and a FEDTL_ROUNDS meant
// for a coordinator must not change a benchmark unseen. The logging options (LOG_OPTIONS) keep FEDTL_LOG_*: they do
// not change a result. Kept free of heavy imports so that `fedtl bench SUITE --help` starts fast.
import {
  booleanOption,
  choiceOption,
  integerOption,
  numberOption,
  stringListOption,
  stringOption,
  type OptionDeclaration,
  type OptionDeclarations,
} from '@fedtl/util/options';

/**
 * The defaults chosen on a validation slice of the shared reviews' training data for `bench domains`
 * (docs/results/domains/tuning.md); the other suites that train the same model take them too.
 */
export const DOMAINS_DEFAULTS = {
  labelsPerClient: [50],
  rounds: 20,
  seed: 7,
  cacheDir: '.fedtl-cache',
  validationFraction: 0.2,
  backbone: 'use-lite',
  model: { adapterWidth: 64, head: 'linear', headHidden: 64 },
  training: { localEpochs: 1, batchSize: 16, learningRate: 0.003, optimizer: 'adam' },
  serverOptimizers: {
    fedavgm: { serverLearningRate: 0.2, serverMomentum: 0.8 },
    fedadam: { serverLearningRate: 0.003, beta1: 0.9, beta2: 0.99, tau: 1e-3 },
  },
  personalizeEpochs: 20,
} as const;

export const DATA_GROUP = 'Data and output:';
export const SUITE_GROUP = 'Suite:';
export const MODEL_GROUP = 'Model:';
const TRAINING_GROUP = 'Local training (each client, every round):';
const SERVER_GROUP = 'Server optimisers of the fedavgm and fedadam rows:';

/** `declarations` with no environment variable each (see the header). */
export function withoutEnvironment<D extends OptionDeclarations>(declarations: D): D {
  const result: Record<string, OptionDeclaration<unknown>> = {};
  for (const [key, declaration] of Object.entries(declarations)) result[key] = { ...declaration, env: null };
  return result as D;
}

/** The shared reviews (or any folder of domains), where the report goes, and which domains take part. */
export const DATA_OPTIONS = withoutEnvironment({
  dataDir: stringOption({ help: 'folder of DOMAIN.train.jsonl and DOMAIN.test.jsonl files (fields text, label); required', valueName: 'DIR', group: DATA_GROUP }),
  out: stringOption({ help: 'where report.json and report.md go (and runs/, each federation\'s files); required', valueName: 'OUT', group: DATA_GROUP }),
  domains: stringListOption({ help: 'domains to use, one client each', defaultText: 'all in --data-dir', valueName: 'A,B,…', group: DATA_GROUP }),
});

/** Federated rounds at the tuned default. */
export const ROUNDS_OPTION = withoutEnvironment({
  rounds: integerOption({ help: 'federated rounds', min: 1, default: DOMAINS_DEFAULTS.rounds, valueName: 'R', group: SUITE_GROUP }),
});

/** The mode for choosing hyperparameters: score on a held-out slice of the training files, never the test files. */
export const VALIDATION_OPTIONS = withoutEnvironment({
  validate: booleanOption({ help: 'hold out --validation-fraction of each training file and report on it, not on the test files: the mode for choosing hyperparameters', group: DATA_GROUP }),
  validationFraction: numberOption({ help: 'share of each training file held out by --validate', min: 0, max: 1, minExclusive: true, maxExclusive: true, default: DOMAINS_DEFAULTS.validationFraction, valueName: 'F', group: DATA_GROUP }),
});

/** Where the features are cached and how many threads embed them. */
export const EMBEDDING_OPTIONS = withoutEnvironment({
  cacheDir: stringOption({ help: 'feature cache shared by the bench and its clients', default: DOMAINS_DEFAULTS.cacheDir, valueName: 'DIR', group: DATA_GROUP }),
  embedThreads: integerOption({ help: 'embedding worker threads', min: 1, defaultText: 'one per core', group: DATA_GROUP }),
});

export const MODEL_OPTIONS = withoutEnvironment({
  backbone: stringOption({ help: 'use-lite | tfjs-model:DIR | precomputed:DIM', default: DOMAINS_DEFAULTS.backbone, valueName: 'SPEC', group: MODEL_GROUP }),
  adapterWidth: integerOption({ help: 'adapter bottleneck width, 0 for none', min: 0, default: DOMAINS_DEFAULTS.model.adapterWidth, group: MODEL_GROUP }),
  head: choiceOption(['linear', 'mlp'] as const, { help: 'classification head', default: DOMAINS_DEFAULTS.model.head, group: MODEL_GROUP }),
  headHidden: integerOption({ help: 'hidden width of the mlp head', min: 1, default: DOMAINS_DEFAULTS.model.headHidden, group: MODEL_GROUP }),
});

export const TRAINING_OPTIONS = withoutEnvironment({
  localEpochs: integerOption({ help: 'epochs per round on each client; local and centralized train rounds × local epochs, the same passes over the data', min: 1, default: DOMAINS_DEFAULTS.training.localEpochs, group: TRAINING_GROUP }),
  batchSize: integerOption({ help: 'local batch size', min: 1, default: DOMAINS_DEFAULTS.training.batchSize, group: TRAINING_GROUP }),
  learningRate: numberOption({ help: 'local learning rate', min: 0, minExclusive: true, default: DOMAINS_DEFAULTS.training.learningRate, group: TRAINING_GROUP }),
  optimizer: choiceOption(['sgd', 'adam'] as const, { help: 'local optimiser', default: DOMAINS_DEFAULTS.training.optimizer, group: TRAINING_GROUP }),
});

const { fedavgm, fedadam } = DOMAINS_DEFAULTS.serverOptimizers;
export const SERVER_OPTIMIZER_OPTIONS = withoutEnvironment({
  fedavgmServerLr: numberOption({ help: 'fedavgm: server learning rate', min: 0, minExclusive: true, default: fedavgm.serverLearningRate, group: SERVER_GROUP }),
  fedavgmMomentum: numberOption({ help: 'fedavgm: server momentum', min: 0, max: 1, maxExclusive: true, default: fedavgm.serverMomentum, valueName: 'B', group: SERVER_GROUP }),
  fedadamServerLr: numberOption({ help: 'fedadam: server learning rate', min: 0, minExclusive: true, default: fedadam.serverLearningRate, group: SERVER_GROUP }),
  fedadamTau: numberOption({ help: `fedadam: adaptivity τ (β1 ${fedadam.beta1}, β2 ${fedadam.beta2})`, min: 0, minExclusive: true, default: fedadam.tau, valueName: 'T', group: SERVER_GROUP }),
});

/** What `bench domains`, `bench strategies` and `bench privacy` all take (each adds its own and LOG_OPTIONS). */
export const SHARED_OPTIONS = {
  ...DATA_OPTIONS,
  ...ROUNDS_OPTION,
  ...VALIDATION_OPTIONS,
  ...EMBEDDING_OPTIONS,
  ...MODEL_OPTIONS,
  ...TRAINING_OPTIONS,
  ...SERVER_OPTIMIZER_OPTIONS,
};
