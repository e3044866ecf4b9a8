// `fedtl bench startup`: its options, declared once.
import { integerOption, stringListOption, stringOption, LOG_OPTIONS } from '@fedtl/util/options';

export const STARTUP_OPTIONS = {
  out: stringOption({ help: 'where report.json and report.md go', default: 'docs/results/startup', valueName: 'DIR', env: null }),
  runs: integerOption({ help: 'timed runs of each way of starting, interleaved (after one untimed warm-up each)', min: 3, max: 1000, default: 15, env: null }),
  commands: stringListOption({ help: 'the subcommands whose --help is timed', default: ['coordinator', 'client'], valueName: 'A,B', env: null }),
  ...LOG_OPTIONS,
};
