// `fedtl bench secagg`: its options, declared once. --quick is a smoke test: the options it shrinks have no declared
// default, secAggBenchOptionsFrom fills in the full or the quick one.
import { resolve } from 'node:path';
import { configError } from '@fedtl/util';
import { booleanOption, integerListOption, integerOption, stringListOption, stringOption, LOG_OPTIONS, type OptionValues } from '@fedtl/util/options';
import { DATA_GROUP, SUITE_GROUP, withoutEnvironment } from '../shared-options';

export interface SecAggBenchOptions {
  clients: number[];
  /** Fractions of the clients that drop out of every round (0 ≤ f < 0.5). */
  dropouts: number[];
  rounds: number;
  /** Feature dimension (the adapter's input) and adapter width: the model's size. */
  dim: number;
  adapterWidth: number;
  /** Simulated training time per client and round, ms. */
  trainDelayMs: number;
  seed: number;
  outDir: string;
}

const FULL = { clients: [4, 16, 64], dropouts: [0, 0.1, 0.3], rounds: 2 };
const QUICK = { clients: [4], dropouts: [0, 0.3], rounds: 1 };
const both = (fullValue: number[] | number, quickValue: number[] | number) => `${fullValue}; --quick ${quickValue}`;

export const SECAGG_OPTIONS = {
  ...withoutEnvironment({
    clients: integerListOption({ help: 'clients per configuration', min: 2, defaultText: both(FULL.clients, QUICK.clients), valueName: 'N,N,…', group: SUITE_GROUP }),
    dropouts: stringListOption({ help: 'fractions in [0, 0.5) of the clients dropping out of each round', defaultText: both(FULL.dropouts, QUICK.dropouts), valueName: 'F,F,…', group: SUITE_GROUP }),
    rounds: integerOption({ help: 'rounds per configuration', min: 1, defaultText: both(FULL.rounds, QUICK.rounds), valueName: 'R', group: SUITE_GROUP }),
    dim: integerOption({ help: "feature dimension, the adapter's input (use-lite's)", min: 1, default: 512, valueName: 'D', group: SUITE_GROUP }),
    adapterWidth: integerOption({ help: 'adapter width (the default: ~66k floats with the linear head)', min: 1, default: 64, valueName: 'W', group: SUITE_GROUP }),
    trainDelayMs: integerOption({ help: 'simulated training time per client and round', min: 0, default: 200, valueName: 'MS', group: SUITE_GROUP }),
    seed: integerOption({ help: 'seed of the simulated deltas', min: 1, default: 1, group: SUITE_GROUP }),
    out: stringOption({ help: 'where report.json and report.md go', default: 'out/bench-secagg', valueName: 'DIR', group: DATA_GROUP }),
    quick: booleanOption({ help: `${QUICK.clients} clients, dropouts ${QUICK.dropouts}, ${QUICK.rounds} round (a smoke test); explicit flags still apply`, group: SUITE_GROUP }),
  }),
  ...LOG_OPTIONS,
};

/** Each item a fraction in [0, 0.5). */
function fractions(items: readonly string[]): number[] {
  return items.map((item) => {
    const f = Number(item);
    if (item.trim() === '' || !Number.isFinite(f) || f < 0 || f >= 0.5) throw configError('--dropouts', 'fractions in [0, 0.5)', items.join(','));
    return f;
  });
}

const sortedDistinct = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);

/**
 * The suite's options from its resolved values, --quick's for what was not given; lists sorted, repeats dropped.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming --dropouts for a fraction outside [0, 0.5).
 */
export function secAggBenchOptionsFrom(v: OptionValues<typeof SECAGG_OPTIONS>): SecAggBenchOptions {
  const base = v.quick ? QUICK : FULL;
  return {
    clients: sortedDistinct(v.clients ?? base.clients),
    dropouts: sortedDistinct(v.dropouts === undefined ? base.dropouts : fractions(v.dropouts)),
    rounds: v.rounds ?? base.rounds,
    dim: v.dim,
    adapterWidth: v.adapterWidth,
    trainDelayMs: v.trainDelayMs,
    seed: v.seed,
    outDir: resolve(v.out),
  };
}

/** Clients dropping out of each round: round(f·N), at least one when f > 0, always leaving a majority. */
export function dropoutCount(clients: number, fraction: number): number {
  if (fraction <= 0) return 0;
  return Math.min(Math.max(1, Math.round(fraction * clients)), Math.ceil(clients / 2) - 1);
}
