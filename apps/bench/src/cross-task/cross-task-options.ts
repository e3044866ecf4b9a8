// `fedtl bench cross-task`: its options, declared once. The data, validation, cache, backbone and training options
// are the domains benchmark's (shared-options.ts, the defaults chosen on its validation slice), so the source
// federation is exactly that benchmark's fedavg row at the source budget; the head is the domains benchmark's too.
import { integerListOption, integerOption, LOG_OPTIONS } from '@fedtl/util/options';
import { DATA_OPTIONS, DOMAINS_DEFAULTS, EMBEDDING_OPTIONS, MODEL_OPTIONS, ROUNDS_OPTION, SUITE_GROUP, TRAINING_OPTIONS, VALIDATION_OPTIONS, withoutEnvironment } from '../shared-options';

export const CROSS_TASK_DEFAULTS = {
  seeds: [1, 2, 3, 4, 5],
  sourceLabelsPerClient: 200,
  targetLabelsPerClient: [20, 50, 200],
} as const;

export const CROSS_TASK_OPTIONS = {
  ...DATA_OPTIONS,
  ...withoutEnvironment({
    seeds: integerListOption({ help: 'one repetition per seed; every number is averaged over them', min: 0, default: [...CROSS_TASK_DEFAULTS.seeds], group: SUITE_GROUP }),
    sourceLabelsPerClient: integerOption({ help: 'sentiment labels per client of the source federation', min: 2, default: CROSS_TASK_DEFAULTS.sourceLabelsPerClient, group: SUITE_GROUP }),
    labelsPerClient: integerListOption({ help: 'rating labels per client of the target federations, one pair (init-from, scratch) per budget', min: 4, default: [...CROSS_TASK_DEFAULTS.targetLabelsPerClient], group: SUITE_GROUP }),
  }),
  ...ROUNDS_OPTION,
  ...VALIDATION_OPTIONS,
  ...EMBEDDING_OPTIONS,
  backbone: MODEL_OPTIONS.backbone,
  ...withoutEnvironment({
    adapterWidth: integerOption({ help: `adapter bottleneck width (the head is the domains benchmark's: ${DOMAINS_DEFAULTS.model.head})`, min: 1, default: DOMAINS_DEFAULTS.model.adapterWidth, group: MODEL_OPTIONS.adapterWidth.group }),
  }),
  ...TRAINING_OPTIONS,
  ...LOG_OPTIONS,
};
