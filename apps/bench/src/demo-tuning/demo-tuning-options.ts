// `fedtl bench demo-tuning`: its options, declared once. Every list is a grid axis: the suite simulates every
// combination of them.
import { booleanOption, integerListOption, integerOption, numberOption, stringListOption, stringOption, LOG_OPTIONS, positiveNumberListOption } from '@fedtl/util/options';
import { DATA_GROUP, SUITE_GROUP, withoutEnvironment } from '../shared-options';

export const DEMO_TUNING_OPTIONS = {
  ...withoutEnvironment({
    out: stringOption({ help: 'where results.json and results.md go', default: 'out/bench-demo-tuning', valueName: 'DIR', group: DATA_GROUP }),
    organisations: integerOption({ help: 'organisations of the simulated demo', min: 1, default: 3, group: SUITE_GROUP }),
    perOrganisation: integerOption({ help: "mails per organisation, as the demo's --per-organisation", min: 10, default: 400, group: SUITE_GROUP }),
    validationFraction: numberOption({ help: "share of each organisation's training mail held out for scoring", min: 0, max: 1, minExclusive: true, maxExclusive: true, default: 0.3333, valueName: 'F', group: SUITE_GROUP }),
    budgets: integerListOption({ help: "labelled mails per organisation (the demo's --train-limit)", min: 2, default: [10, 20, 30, 40, 60], group: SUITE_GROUP }),
    rounds: integerListOption({ help: 'federated rounds', min: 1, default: [5, 10, 20], group: SUITE_GROUP }),
    localEpochs: integerListOption({ help: 'local epochs per round', min: 1, default: [1, 2, 5], group: SUITE_GROUP }),
    learningRates: positiveNumberListOption({ help: 'Adam learning rates', default: [0.001, 0.003, 0.01], group: SUITE_GROUP }),
    batchSizes: integerListOption({ help: 'local batch sizes', min: 1, default: [8, 32], group: SUITE_GROUP }),
    personalizeEpochs: integerListOption({ help: 'epochs of private head fine-tuning', min: 1, default: [5, 10, 20, 40], group: SUITE_GROUP }),
    strategies: stringListOption({ help: "fedavg, fedavgm:LR:MOMENTUM, fedadam:LR:TAU (the coordinator's --strategy and --server-* options)", default: ['fedavg'], valueName: 'SPEC,…', group: SUITE_GROUP }),
    draws: integerOption({ help: "seeds per setting: the demo's (coordinator 42, client 7), then both + 1, + 2…", min: 1, default: 3, group: SUITE_GROUP }),
    fixedValidation: booleanOption({ help: "every draw scores on draw 0's validation slice (only the labelled sample and the training seeds change)", group: SUITE_GROUP }),
    cacheDir: stringOption({ help: 'feature cache', default: '.fedtl-cache/demo-tuning', valueName: 'DIR', group: DATA_GROUP }),
  }),
  ...LOG_OPTIONS,
  logLevel: { ...LOG_OPTIONS.logLevel, default: 'warn' as const },
};
