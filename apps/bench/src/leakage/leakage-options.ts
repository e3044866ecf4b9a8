// `fedtl bench leakage`: its options, declared once. --quick is a small version for tests: the options it shrinks
// have no declared default, leakage-config.ts fills in the full or the quick one.
import { booleanOption, integerOption, stringListOption, stringOption, LOG_OPTIONS } from '@fedtl/util/options';
import { DATA_GROUP, EMBEDDING_OPTIONS, SUITE_GROUP, withoutEnvironment } from '../shared-options';

/** The shared Amazon reviews and the demo's mail. */
export const DATASET_NAMES = ['amazon', 'mail'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Row groups: issue 8's rows (report.json/.md) and the rows with differential privacy on (dp-report.json/.md). */
export const SETTING_GROUPS = ['base', 'dp'] as const;
export type SettingGroup = (typeof SETTING_GROUPS)[number];

export const FULL = {
  trials: 20,
  sizes: { amazon: [1, 50, 200], mail: [1, 6, 50] },
  dpSizes: [1, 50],
  sumOthers: [2, 9],
  trapExamples: 50,
  others: 1000,
  matching: { iterations: 100, trials: 8, maxDummies: 16, learningRate: 0.01 },
};
export const QUICK = {
  trials: 3,
  sizes: { amazon: [1, 4], mail: [1, 4] },
  dpSizes: [1, 4],
  sumOthers: [2],
  trapExamples: 4,
  others: 100,
  matching: { iterations: 30, trials: 2, maxDummies: 4, learningRate: 0.01 },
};

const both = (fullValue: number, quickValue: number) => `${fullValue}; --quick ${quickValue}`;

export const LEAKAGE_OPTIONS = {
  ...withoutEnvironment({
    datasets: stringListOption({ help: `${DATASET_NAMES.join(', ')}: the shared Amazon reviews, the demo's mail`, default: [...DATASET_NAMES], group: SUITE_GROUP }),
    settings: stringListOption({
      help: "row groups: base, issue 8's rows (report.json, report.md); dp, the same attacks under record-level DP-SGD and client-level DP-FedAvg at epsilon 8, 4, 2 of one round (dp-report.json, dp-report.md)",
      default: ['base'],
      group: SUITE_GROUP,
    }),
    dataDir: stringOption({ help: 'the Amazon reviews', defaultText: '../shared/data/amazon-reviews from the workspace root', valueName: 'DIR', group: DATA_GROUP }),
    out: stringOption({ help: 'where report.json and report.md go', default: 'out/bench-leakage', valueName: 'DIR', group: DATA_GROUP }),
    trials: integerOption({ help: 'target clients per setting', min: 1, defaultText: both(FULL.trials, QUICK.trials), group: SUITE_GROUP }),
    matchingTrials: integerOption({ help: 'of those, how many the gradient-matching attack runs on (it is the slow one)', min: 0, defaultText: both(FULL.matching.trials, QUICK.matching.trials), group: SUITE_GROUP }),
    matchingIterations: integerOption({ help: 'Adam steps of gradient matching', min: 1, defaultText: both(FULL.matching.iterations, QUICK.matching.iterations), group: SUITE_GROUP }),
    others: integerOption({ help: 'distractor texts per pool', min: 1, defaultText: both(FULL.others, QUICK.others), group: SUITE_GROUP }),
    seed: integerOption({ help: "seed of every draw, the runs' initial weights and the attacks (the coordinator's default)", min: 0, default: 42, group: SUITE_GROUP }),
    quick: booleanOption({ help: 'a small version (few trials, small pools, sizes 1 and 4, one sum) for tests', group: SUITE_GROUP }),
  }),
  ...EMBEDDING_OPTIONS,
  ...LOG_OPTIONS,
  logLevel: { ...LOG_OPTIONS.logLevel, default: 'warn' as const },
};
