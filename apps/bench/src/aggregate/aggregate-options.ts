// `fedtl bench aggregate`: its options, declared once.
import { booleanOption, integerListOption, integerOption, stringOption, LOG_OPTIONS } from '@fedtl/util/options';

/**
 * The largest update: a case holds about 44 bytes a value at once (float32: the global weights, the update, its
 * encoded bytes, the decoded update and the result; float64: FedAvg's two sums and the reference's), so 1e8 values
 * is ~4.4 GB, what a benchmark machine can still give it; beyond that the allocation fails mid-run.
 */
export const MAX_AGGREGATE_FLOATS = 100_000_000;

export const AGGREGATE_OPTIONS = {
  out: stringOption({ help: 'where report.json and report.md go', default: 'docs/results/aggregate', valueName: 'DIR', env: null }),
  clients: integerListOption({ help: 'updates aggregated per case (N)', min: 1, default: [10, 100], valueName: 'N,N,…', env: null }),
  floats: integerListOption({
    help: `float32 values per update (P); at most ${MAX_AGGREGATE_FLOATS.toExponential()}, as a case holds ~44 bytes a value in memory at once (4.4 GB)`,
    min: 1,
    max: MAX_AGGREGATE_FLOATS,
    default: [1_000_000],
    valueName: 'P,P,…',
    env: null,
  }),
  seed: integerOption({ help: 'seed of the update values', min: 1, default: 1, env: null }),
  inProcess: booleanOption({ help: "run every case in this process instead of one child process each (a case's peak RSS then includes what the cases before it left)", default: false, env: null }),
  ...LOG_OPTIONS,
};
