// `fedtl bench domains`: its options, declared once (the shared ones from shared-options.ts). Light imports only,
// so that `fedtl bench domains --help` starts fast; domains-config.ts turns the values into DomainsOptions.
import { UPDATE_COMPRESSION_SYNTAX, canonicalUpdateCompression, parseUpdateCompression } from '@fedtl/protocol/compression';
import { integerListOption, integerOption, stringListOption, LOG_OPTIONS } from '@fedtl/util/options';
import { loraOptions } from '@fedtl/model';
import { DOMAINS_DEFAULTS, MODEL_GROUP, SHARED_OPTIONS, SUITE_GROUP, withoutEnvironment } from '../shared-options';

export const METHOD_NAMES = ['local', 'centralized', 'fedavg', 'fedavg-secagg', 'fedavgm', 'fedadam', 'personalized', 'leave-one-out'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export const DOMAINS_OPTIONS = {
  ...withoutEnvironment({
    labelsPerClient: integerListOption({
      help: 'labelled training examples per client, stratified and seeded; a list such as 50,200,1600 runs a sweep and plots accuracy against the budget',
      min: 2,
      default: [...DOMAINS_DEFAULTS.labelsPerClient],
      group: SUITE_GROUP,
    }),
    seed: integerOption({ help: 'seed of sampling, initialisation and training', min: 0, default: DOMAINS_DEFAULTS.seed, valueName: 'S', group: SUITE_GROUP }),
    methods: stringListOption({
      help:
        `subset of ${METHOD_NAMES.join(',')}. fedavg-secagg: the fedavg federation under secure aggregation (coordinator --secure-aggregation, ` +
        'every client --require-secure-aggregation); with fedavg in the same run the report gives the largest per-domain, per-round accuracy ' +
        'difference between the two and the bytes and seconds per round of each (--methods fedavg,fedavg-secagg runs just that comparison)',
      defaultText: 'all',
      group: SUITE_GROUP,
    }),
    compression: stringListOption({
      help:
        'compare update compressions on the fedavg federation (the coordinator\'s --compression), e.g. float32,float16,int8,topk:0.01: ' +
        'one federation per encoding, float32 the baseline (added if missing; the fedavg row\'s run when fedavg runs too); the report ' +
        'gives each one\'s bytes up per round, mean accuracy and its difference from float32',
      acceptsItem: (item: string) => parseUpdateCompression(item) !== undefined,
      expectedItem: UPDATE_COMPRESSION_SYNTAX,
      normalize: (items: string[]) => items.map(canonicalUpdateCompression),
      valueName: 'ENC,ENC,…',
      group: SUITE_GROUP,
    }),
    personalizeEpochs: integerOption({ help: 'epochs of private head fine-tuning for the personalized method', min: 1, default: DOMAINS_DEFAULTS.personalizeEpochs, group: SUITE_GROUP }),
    // Every method's model, the references' included: --lora-rank R > 0 trains LoRA inside use-lite instead of
    // on frozen features.
    ...loraOptions(MODEL_GROUP),
  }),
  ...SHARED_OPTIONS,
  ...LOG_OPTIONS,
};
