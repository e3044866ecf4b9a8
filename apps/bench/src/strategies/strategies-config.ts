// `bench strategies`: its declared options (strategies-options.ts) turned into StrategiesOptions, with the checks a
// single declaration cannot make; and what the suite derives from them (each row's coordinator strategy, whether
// the robust rules fit the number of clients).
import { configError } from '@fedtl/util';
import type { OptionValues } from '@fedtl/util/options';
import { sharedOptionsFrom, type SharedBenchOptions } from '../domains/domains-config';
import type { FederationStrategy } from '../domains/federation-run';
import { distinct, subsetOf } from '../option-checks';
import { STRATEGIES_DEFAULTS, STRATEGY_NAMES, type STRATEGIES_OPTIONS, type StrategyName, type StrategySettings } from './strategies-options';

export { ROBUST_STRATEGY_NAMES, STRATEGIES_DEFAULTS, STRATEGY_NAMES, type StrategyName, type StrategySettings } from './strategies-options';

export interface StrategiesOptions extends SharedBenchOptions {
  labelsPerClient: number;
  /** One federation per seed and row: the seed draws the labelled examples and seeds initialisation and training. */
  seeds: number[];
  strategies: StrategyName[];
  /** Strategies run a second time with one attacking client. */
  attacked: StrategyName[];
  /** The attacking client's domain; undefined: the first domain. */
  attacker?: string;
  /** The attacker sends −S × its honest delta. */
  signFlipScale: number;
  settings: StrategySettings;
}

/**
 * The suite's options from its resolved values.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming the flag: --data-dir or --out missing, a seed given twice, an
 *   unknown strategy.
 */
export function strategiesOptionsFrom(v: OptionValues<typeof STRATEGIES_OPTIONS>): StrategiesOptions {
  const defaults = STRATEGIES_DEFAULTS.settings;
  const attacked = v.attacked.split(',').map((name) => name.trim()).filter(Boolean);
  return {
    ...sharedOptionsFrom(v),
    labelsPerClient: v.labelsPerClient,
    seeds: distinct(v.seeds, '--seeds', 'distinct integers >= 0'),
    strategies: subsetOf(v.strategies ?? STRATEGY_NAMES, STRATEGY_NAMES, '--strategies'),
    attacked: subsetOf(attacked, STRATEGY_NAMES, '--attacked'),
    ...(v.attacker === undefined ? {} : { attacker: v.attacker }),
    signFlipScale: v.signFlipScale,
    settings: {
      fedyogi: { ...defaults.fedyogi, serverLearningRate: v.fedyogiServerLr },
      fedadagrad: { ...defaults.fedadagrad, serverLearningRate: v.fedadagradServerLr },
      proximalMu: v.proximalMu,
      metaInnerLearningRate: v.metaInnerLearningRate,
      trimFraction: v.trimFraction,
      byzantineClients: v.byzantineClients,
      multikrumSelected: v.multikrumSelected,
    },
  };
}

/** The coordinator strategy of a row, with the suite's settings (fedavgm and fedadam: the domains bench's). */
export function federationStrategy(name: StrategyName, options: Pick<StrategiesOptions, 'settings' | 'serverOptimizers'>): FederationStrategy {
  const { settings, serverOptimizers } = options;
  switch (name) {
    case 'fedavg':
    case 'median':
      return { name };
    case 'fedavgm':
      return { name, ...serverOptimizers.fedavgm };
    case 'fedadam':
      return { name, ...serverOptimizers.fedadam };
    case 'fedyogi':
      return { name, ...settings.fedyogi };
    case 'fedadagrad':
      return { name, ...settings.fedadagrad };
    case 'fedprox':
      return { name, proximalMu: settings.proximalMu };
    case 'per-fedavg':
      return { name, metaInnerLearningRate: settings.metaInnerLearningRate };
    case 'trimmed-mean':
      return { name, trimFraction: settings.trimFraction };
    case 'krum':
      return { name, byzantineClients: settings.byzantineClients };
    case 'multikrum':
      return { name, byzantineClients: settings.byzantineClients, selected: settings.multikrumSelected };
  }
}

/**
 * Checks each requested robust rule against the number of clients n before any federation runs (the coordinator
 * would refuse it too, but only when that row starts, minutes in): Krum needs n > 2f + 2, MultiKrum also m + f ≤ n,
 * the trimmed mean ⌊β·n⌋ ≥ 1.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming the flag, the rule and n.
 */
export function checkRulesFit(options: Pick<StrategiesOptions, 'strategies' | 'settings'>, clients: number): void {
  const { byzantineClients: f, multikrumSelected: m, trimFraction: beta } = options.settings;
  const wants = (name: StrategyName) => options.strategies.includes(name);
  if ((wants('krum') || wants('multikrum')) && !(clients > 2 * f + 2)) {
    throw configError('--byzantine-clients', `f with n > 2f + 2 for krum and multikrum with n = ${clients} clients`, f);
  }
  if (wants('multikrum') && m + f > clients) throw configError('--multikrum-selected', `m with m + f ≤ n = ${clients} (f = ${f})`, m);
  if (wants('trimmed-mean') && Math.floor(beta * clients) < 1) throw configError('--trim-fraction', `β with ⌊β·n⌋ ≥ 1 for n = ${clients} clients`, beta);
}
