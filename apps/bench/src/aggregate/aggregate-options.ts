// `fedtl bench aggregate`: its options, declared once.
import { booleanOption, integerListOption, integerOption, stringOption, LOG_OPTIONS } from '@fedtl/util/options';

export const AGGREGATE_OPTIONS = {
  out: stringOption({ help: 'where report.json and report.md go', default: 'docs/results/aggregate', valueName: 'DIR', env: null }),
  clients: integerListOption({ help: 'updates aggregated per case (N)', min: 1, default: [10, 100], valueName: 'N,N,…', env: null }),
  floats: integerListOption({ help: 'float32 values per update (P)', min: 1, default: [1_000_000], valueName: 'P,P,…', env: null }),
  seed: integerOption({ help: 'seed of the update values', min: 1, default: 1, env: null }),
  inProcess: booleanOption({ help: "run every case in this process instead of one child process each (a case's peak RSS then includes what the cases before it left)", default: false, env: null }),
  ...LOG_OPTIONS,
};
