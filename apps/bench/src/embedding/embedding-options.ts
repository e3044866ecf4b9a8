// `fedtl bench embedding`: its options, declared once.
import { integerOption, stringListOption, stringOption, LOG_OPTIONS } from '@fedtl/util/options';
import { DATA_GROUP, SUITE_GROUP, withoutEnvironment } from '../shared-options';

/** Backends the suite can measure; tensorflow (tfjs-node, the native CPU backend) only where it installed. */
export const EMBEDDING_BACKENDS = ['wasm', 'cpu', 'tensorflow'] as const;

export const EMBEDDING_SUITE_OPTIONS = {
  ...withoutEnvironment({
    texts: integerOption({ help: 'reviews embedded per configuration and repetition on wasm', min: 1, default: 256, group: SUITE_GROUP }),
    cpuTexts: integerOption({ help: 'the same on the cpu backend (about 25x slower than wasm): its first N of those reviews', min: 1, default: 8, group: SUITE_GROUP }),
    repetitions: integerOption({ help: 'timed repetitions over all the texts; figures are medians', min: 1, max: 100, default: 3, group: SUITE_GROUP }),
    chunk: integerOption({ help: 'texts each configuration embeds in turn before the next takes the same ones, so that load changes fall on all alike', min: 1, default: 64, group: SUITE_GROUP }),
    batchSize: integerOption({ help: 'texts per forward pass of the batched, bucketed and pool configurations (at most a chunk shared by the pool\'s threads)', min: 2, max: 1024, default: 8, group: SUITE_GROUP }),
    threads: integerOption({ help: 'worker threads of the pool configuration', min: 2, max: 256, defaultText: 'one per core', group: SUITE_GROUP }),
    backends: stringListOption({ help: `backends to measure, each in a worker thread of its own: ${EMBEDDING_BACKENDS.join(', ')} (tensorflow: @tensorflow/tfjs-node, where it installed)`, default: ['wasm', 'cpu'], valueName: 'A,B', group: SUITE_GROUP }),
    dataFile: stringOption({ help: 'a JSONL file of reviews (field text); its first texts are embedded', defaultText: '../shared/data/amazon-reviews/books.train.jsonl from the repository root, else the SpamAssassin mails', valueName: 'FILE', group: DATA_GROUP }),
    out: stringOption({ help: 'where report.json and report.md go', default: 'docs/results/embedding', valueName: 'DIR', group: DATA_GROUP }),
  }),
  ...LOG_OPTIONS,
  logLevel: { ...LOG_OPTIONS.logLevel, default: 'warn' as const },
};
