// `fedtl bench embedding`: its options, declared once.
import { integerListOption, integerOption, stringOption, LOG_OPTIONS } from '@fedtl/util/options';
import { DATA_GROUP, MODEL_OPTIONS, SUITE_GROUP, withoutEnvironment } from '../shared-options';

export const EMBEDDING_SUITE_OPTIONS = {
  ...withoutEnvironment({
    texts: integerOption({ help: 'texts embedded per configuration', min: 1, default: 256, group: SUITE_GROUP }),
    threads: integerListOption({ help: 'configurations to compare; 1 is in-process, more are worker pools', min: 1, defaultText: '1 and one per core', group: SUITE_GROUP }),
    out: stringOption({ help: 'also write the results as JSON', valueName: 'FILE', group: DATA_GROUP }),
  }),
  backbone: MODEL_OPTIONS.backbone,
  ...LOG_OPTIONS,
  logLevel: { ...LOG_OPTIONS.logLevel, default: 'warn' as const },
};
