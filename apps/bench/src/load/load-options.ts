// `fedtl bench load`: its options, declared once, and the LoadOptions they make.
import { configError } from '@fedtl/util';
import { integerListOption, integerOption, stringOption, LOG_OPTIONS, type OptionValues } from '@fedtl/util/options';
import { DATA_GROUP, SUITE_GROUP, withoutEnvironment } from '../shared-options';

export interface LoadOptions {
  /** Simulated client counts, one scenario each per model size. */
  clients: number[];
  rounds: number;
  /** Width of the precomputed feature vectors (the adapter's input). */
  dim: number;
  /** The model whose memory and throughput are reported. */
  adapterWidth: number;
  /** A second, larger adapter run side by side, so memory growth with model size is measured, not assumed. */
  compareAdapterWidth: number;
  seed: number;
  /** Simulated clients connect in batches of this many, so the coordinator is not hit by N handshakes at once. */
  connectBatch: number;
  /** Where the JSON result goes; stdout gets the markdown either way. */
  out?: string;
}

export const LOAD_OPTIONS = {
  ...withoutEnvironment({
    clients: integerListOption({ help: 'simulated clients per scenario', min: 1, default: [10, 100, 500], valueName: 'N,N,…', group: SUITE_GROUP }),
    rounds: integerOption({ help: 'rounds per scenario', min: 1, default: 3, valueName: 'R', group: SUITE_GROUP }),
    dim: integerOption({ help: "feature dimension, the adapter's input", min: 1, default: 256, valueName: 'D', group: SUITE_GROUP }),
    adapterWidth: integerOption({ help: 'adapter width of the measured model', min: 1, default: 32, valueName: 'W', group: SUITE_GROUP }),
    compareAdapterWidth: integerOption({ help: 'a larger adapter run side by side for memory scaling (more than --adapter-width)', min: 1, default: 256, valueName: 'W2', group: SUITE_GROUP }),
    connectBatch: integerOption({ help: 'clients connecting at once', min: 1, default: 50, valueName: 'K', group: SUITE_GROUP }),
    seed: integerOption({ help: 'seed of the simulated deltas', min: 1, default: 1, group: SUITE_GROUP }),
    out: stringOption({ help: 'also write the results as JSON (stdout gets the markdown either way)', valueName: 'FILE', group: DATA_GROUP }),
  }),
  ...LOG_OPTIONS,
};

/**
 * The suite's options from its resolved values; client counts sorted, repeats dropped.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG when --compare-adapter-width is not more than --adapter-width.
 */
export function loadOptionsFrom(v: OptionValues<typeof LOAD_OPTIONS>): LoadOptions {
  if (v.compareAdapterWidth <= v.adapterWidth) throw configError('--compare-adapter-width', `more than --adapter-width (${v.adapterWidth})`, v.compareAdapterWidth);
  return {
    clients: [...new Set(v.clients)].sort((a, b) => a - b),
    rounds: v.rounds,
    dim: v.dim,
    adapterWidth: v.adapterWidth,
    compareAdapterWidth: v.compareAdapterWidth,
    seed: v.seed,
    connectBatch: v.connectBatch,
    ...(v.out === undefined ? {} : { out: v.out }),
  };
}
