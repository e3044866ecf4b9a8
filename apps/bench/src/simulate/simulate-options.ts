// `fedtl bench simulate`: its options, declared once, and the SimulateOptions they make. The model and local
// training options are those of `bench domains` (same flags, same defaults); the feature cache is shared with it.
// Kept free of heavy imports so that `fedtl bench simulate --help` starts fast.
import { integerOption, numberOption, stringOption, LOG_OPTIONS, type OptionValues } from '@fedtl/util/options';
import { configError } from '@fedtl/util';
import { required } from '../option-checks';
import { DATA_GROUP, EMBEDDING_OPTIONS, MODEL_OPTIONS, SUITE_GROUP, TRAINING_OPTIONS, withoutEnvironment } from '../shared-options';
import { describePartition, parsePartition, PARTITION_SYNTAX, readPartition, type PartitionSpec } from './partition-spec';

export interface SimulateOptions {
  /** A labelled file or a folder of them. */
  data: string;
  out: string;
  partition: PartitionSpec;
  clients: number;
  clientsPerRound: number;
  rounds: number;
  seed: number;
  /** Share of a single training file held out as the test set (a folder's DOMAIN.test files are used as they are). */
  testFraction: number;
  /** Training worker threads; undefined: one per core. */
  workers?: number;
  /** Virtual clients connecting at once. */
  connectBatch: number;
  cacheDir: string;
  embedThreads?: number;
  backbone: string;
  model: { adapterWidth: number; head: 'linear' | 'mlp'; headHidden: number };
  training: { localEpochs: number; batchSize: number; learningRate: number; optimizer: 'sgd' | 'adam' };
}

export const SIMULATE_OPTIONS = {
  ...withoutEnvironment({
    data: stringOption({
      help: 'a labelled .jsonl/.csv/.tsv file (fields text, label), or a folder of DOMAIN.train.jsonl files (DOMAIN.test.jsonl beside them is the test set); required',
      valueName: 'PATH',
      group: DATA_GROUP,
    }),
    out: stringOption({ help: 'where report.json and report.md go; required', valueName: 'DIR', group: DATA_GROUP }),
    testFraction: numberOption({ help: 'with no test files: share of the training data held out (stratified) to score the global model', min: 0, max: 1, minExclusive: true, maxExclusive: true, default: 0.2, valueName: 'F', group: DATA_GROUP }),
    partition: stringOption({
      help: 'dirichlet:ALPHA (each client draws its label mix from Dir(ALPHA·p), Hsu et al. 2019) or field:NAME (clients dealt to the values of the string field NAME, e.g. domain; field:file for the file a row came from); the kind in any case, NAME as the rows spell it',
      default: 'dirichlet:0.5',
      accepts: (text: string) => readPartition(text) !== undefined,
      expected: PARTITION_SYNTAX,
      normalize: (text: string) => describePartition(parsePartition(text)),
      valueName: 'SPEC',
      group: SUITE_GROUP,
    }),
    clients: integerOption({ help: 'virtual clients, one Socket.IO connection each', min: 1, default: 1000, valueName: 'N', group: SUITE_GROUP }),
    clientsPerRound: integerOption({ help: "clients the coordinator samples per round (its --fraction-fit K/N and quorum --min-clients K)", min: 1, default: 10, valueName: 'K', group: SUITE_GROUP }),
    rounds: integerOption({ help: 'federated rounds', min: 1, default: 20, valueName: 'R', group: SUITE_GROUP }),
    seed: integerOption({ help: 'seed of the partition, the test split and the coordinator (sampling, initialisation)', min: 0, default: 7, group: SUITE_GROUP }),
    workers: integerOption({ help: 'training worker threads, each with one adapter+head model', min: 1, defaultText: 'one per core', valueName: 'W', group: SUITE_GROUP }),
    connectBatch: integerOption({ help: 'virtual clients connecting at once', min: 1, default: 50, valueName: 'B', group: SUITE_GROUP }),
  }),
  ...EMBEDDING_OPTIONS,
  ...MODEL_OPTIONS,
  ...TRAINING_OPTIONS,
  ...LOG_OPTIONS,
};

/**
 * The suite's options from its resolved values.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG without --data or --out, for a bad --partition, or for more clients per
 *   round than clients.
 */
export function simulateOptionsFrom(v: OptionValues<typeof SIMULATE_OPTIONS>): SimulateOptions {
  if (v.clientsPerRound > v.clients) throw configError('--clients-per-round', `at most --clients (${v.clients})`, v.clientsPerRound);
  return {
    data: required(v.data, '--data', 'a labelled file or a folder of them'),
    out: required(v.out, '--out', 'a folder for report.json and report.md'),
    partition: parsePartition(v.partition),
    clients: v.clients,
    clientsPerRound: v.clientsPerRound,
    rounds: v.rounds,
    seed: v.seed,
    testFraction: v.testFraction,
    ...(v.workers === undefined ? {} : { workers: v.workers }),
    connectBatch: v.connectBatch,
    cacheDir: v.cacheDir,
    ...(v.embedThreads === undefined ? {} : { embedThreads: v.embedThreads }),
    backbone: v.backbone,
    model: { adapterWidth: v.adapterWidth, head: v.head, headHidden: v.headHidden },
    training: { localEpochs: v.localEpochs, batchSize: v.batchSize, learningRate: v.learningRate, optimizer: v.optimizer },
  };
}
