// `fedtl bench few-shot`: its options, declared once. The data, validation and cache options are the domains
// bench's (shared-options.ts), and so are the model and the clients' local training, which are not options here
// (DOMAINS_DEFAULTS); what is new is the held-out-domain protocol and the adaptation. Light imports only (the
// Per-FedAvg default is written out; few-shot-report.spec.ts checks it against @fedtl/strategies).
import { integerListOption, integerOption, numberOption, positiveNumberListOption, stringListOption, LOG_OPTIONS } from '@fedtl/util/options';
import { DATA_GROUP, DATA_OPTIONS, EMBEDDING_OPTIONS, ROUNDS_OPTION, SUITE_GROUP, VALIDATION_OPTIONS, withoutEnvironment } from '../shared-options';
import { INITS, type InitName } from './few-shot-report';

/** PER_FEDAVG_DEFAULTS.metaInnerLearningRate. */
const PER_FEDAVG_ALPHA = 0.2;

export const FEW_SHOT_DEFAULTS = {
  seeds: [1, 2, 3, 4, 5],
  shots: [8, 32, 128],
  labelsPerClient: 200,
  steps: 10,
  metaInnerLearningRate: PER_FEDAVG_ALPHA,
  // Chosen on validation slices (docs/results/few-shot/README.md): per-fedavg adapts with its own α, as MAML does.
  adaptLearningRates: { 'per-fedavg': [PER_FEDAVG_ALPHA], fedavg: [0.01], scratch: [1] } as Record<InitName, readonly number[]>,
} as const;

const ADAPT_HELP: Record<InitName, string> = {
  'per-fedavg': 'adaptation step size from the per-fedavg weights',
  fedavg: '… from the fedavg weights',
  scratch: '… from a fresh adapter and head',
};

/** --adapt-lr-per-fedavg, --adapt-lr-fedavg, --adapt-lr-scratch: lists, since --validate tries several. */
function adaptLearningRate(init: InitName) {
  return positiveNumberListOption({
    help: `${ADAPT_HELP[init]} (chosen on validation data; with --validate a list, all tried)`,
    default: [...FEW_SHOT_DEFAULTS.adaptLearningRates[init]],
    valueName: 'A',
    group: SUITE_GROUP,
  });
}

export const FEW_SHOT_OPTIONS = {
  ...DATA_OPTIONS,
  ...withoutEnvironment({
    domains: stringListOption({ help: 'domains to use, each in turn the new one', minItems: 2, defaultText: 'all in --data-dir', valueName: 'A,B,…', group: DATA_GROUP }),
    seeds: integerListOption({ help: 'seeds of the draws, initialisation and training', min: 0, default: [...FEW_SHOT_DEFAULTS.seeds], group: SUITE_GROUP }),
    shots: integerListOption({ help: 'labelled examples of the new domain', min: 1, default: [...FEW_SHOT_DEFAULTS.shots], group: SUITE_GROUP }),
    labelsPerClient: integerOption({ help: 'labelled examples per federating client', min: 2, default: FEW_SHOT_DEFAULTS.labelsPerClient, group: SUITE_GROUP }),
  }),
  ...ROUNDS_OPTION,
  ...withoutEnvironment({
    steps: integerOption({ help: 'adaptation steps (full-batch SGD, the same for every initialisation)', min: 1, max: 100_000, default: FEW_SHOT_DEFAULTS.steps, valueName: 'S', group: SUITE_GROUP }),
    metaInnerLearningRate: numberOption({ help: "per-fedavg's α", min: 0, minExclusive: true, default: FEW_SHOT_DEFAULTS.metaInnerLearningRate, valueName: 'A', group: SUITE_GROUP }),
    adaptLrPerFedavg: adaptLearningRate('per-fedavg'),
    adaptLrFedavg: adaptLearningRate('fedavg'),
    adaptLrScratch: adaptLearningRate('scratch'),
  }),
  ...VALIDATION_OPTIONS,
  ...EMBEDDING_OPTIONS,
  ...LOG_OPTIONS,
};

/** Each initialisation's option key. */
export const ADAPT_LR_KEYS = { 'per-fedavg': 'adaptLrPerFedavg', fedavg: 'adaptLrFedavg', scratch: 'adaptLrScratch' } as const satisfies Record<(typeof INITS)[number], keyof typeof FEW_SHOT_OPTIONS>;
