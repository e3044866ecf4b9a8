// `fedtl bench wire`: its options, declared once.
import { integerListOption, integerOption, stringOption, LOG_OPTIONS } from '@fedtl/util/options';

export const WIRE_OPTIONS = {
  out: stringOption({ help: 'where report.json and report.md go', default: 'docs/results/wire', valueName: 'DIR', env: null }),
  floats: integerListOption({ help: 'update sizes, in float32 values (one Update of one tensor each)', min: 1, default: [100_000, 1_000_000, 10_000_000], valueName: 'P,P,…', env: null }),
  repetitions: integerOption({ help: 'timed repetitions of every transfer and pass, interleaved (after one untimed warm-up each); medians reported', min: 1, max: 1000, default: 7, valueName: 'R', env: null }),
  seed: integerOption({ help: 'seed of the update values', min: 1, default: 1, env: null }),
  ...LOG_OPTIONS,
};
