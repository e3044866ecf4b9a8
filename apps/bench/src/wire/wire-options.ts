// `fedtl bench wire`: its options, declared once.
import { integerListOption, integerOption, stringOption, LOG_OPTIONS } from '@fedtl/util/options';

/**
 * The largest update: its JSON baseline is one string of about 26 characters a value, and V8's longest string is
 * 2^29 - 24 characters (~536M), so 2e7 values (~520M characters at most) is what the JSON side can still send.
 */
export const MAX_WIRE_FLOATS = 20_000_000;

export const WIRE_OPTIONS = {
  out: stringOption({ help: 'where report.json and report.md go', default: 'docs/results/wire', valueName: 'DIR', env: null }),
  floats: integerListOption({
    help: `update sizes, in float32 values (one Update of one tensor each); at most ${MAX_WIRE_FLOATS.toExponential()}, as the JSON baseline's text must fit in one V8 string (~26 characters a value)`,
    min: 1,
    max: MAX_WIRE_FLOATS,
    default: [100_000, 1_000_000, 10_000_000],
    valueName: 'P,P,…',
    env: null,
  }),
  repetitions: integerOption({ help: 'timed repetitions of every transfer and pass, interleaved (after one untimed warm-up each); medians reported', min: 1, max: 1000, default: 7, valueName: 'R', env: null }),
  seed: integerOption({ help: 'seed of the update values', min: 1, default: 1, env: null }),
  ...LOG_OPTIONS,
};
