// `fedtl bench strategies`: its options, declared once. The data, model and training options are those of
// `bench domains` (SHARED_OPTIONS, same defaults); this suite adds the seeds, the strategies, their settings and the
// attack. Light imports only (the strategy defaults are written out here; strategies-config.spec.ts checks them
// against @fedtl/strategies).
import { integerListOption, integerOption, numberOption, stringListOption, stringOption, LOG_OPTIONS } from '@fedtl/util/options';
import { DOMAINS_DEFAULTS, SHARED_OPTIONS, SUITE_GROUP, withoutEnvironment } from '../shared-options';

/** Every strategy of the coordinator, in the table's order: FedAvg, server optimisers, FedProx, Per-FedAvg, robust rules. */
export const STRATEGY_NAMES = ['fedavg', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad', 'fedprox', 'per-fedavg', 'median', 'trimmed-mean', 'krum', 'multikrum'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** The strategies built to withstand faulty or malicious clients (the coordinator's ROBUST_STRATEGY_NAMES). */
export const ROBUST_STRATEGY_NAMES: readonly StrategyName[] = ['median', 'trimmed-mean', 'krum', 'multikrum'];

/** Settings of the strategies that have some (the domains bench's fedavgm and fedadam settings come with SharedBenchOptions). */
export interface StrategySettings {
  fedyogi: { serverLearningRate: number; beta1: number; beta2: number; tau: number };
  fedadagrad: { serverLearningRate: number; beta1: number; tau: number };
  /** FedProx's μ (Li et al., MLSys 2020). */
  proximalMu: number;
  /** Per-FedAvg's α, the inner step of its first-order MAML update (Fallah et al., NeurIPS 2020). */
  metaInnerLearningRate: number;
  /** TrimmedMean's β: ⌊β·n⌋ values trimmed from each end of a coordinate; with 4 clients β ≥ 0.25 trims one. */
  trimFraction: number;
  /** Krum's and MultiKrum's f: with 4 clients only f = 0 satisfies n > 2f + 2. */
  byzantineClients: number;
  /** MultiKrum's m, the updates averaged; m = n − f would average all four when f = 0. */
  multikrumSelected: number;
}

export const STRATEGIES_DEFAULTS = {
  labelsPerClient: 50,
  seeds: [1, 2, 3, 4, 5],
  attacked: ['fedavg', ...ROBUST_STRATEGY_NAMES] as StrategyName[],
  signFlipScale: 10,
  settings: {
    // Not tuned: FedYogi takes the validated FedAdam row's step and the library's β and τ (FEDYOGI_DEFAULTS);
    // FedAdagrad, whose accumulated second moment only shrinks its steps, a larger one.
    fedyogi: { serverLearningRate: DOMAINS_DEFAULTS.serverOptimizers.fedadam.serverLearningRate, beta1: 0.9, beta2: 0.99, tau: 1e-3 },
    fedadagrad: { serverLearningRate: 0.01, beta1: 0, tau: 1e-3 },
    // FEDPROX_DEFAULTS.proximalMu.
    proximalMu: 0.01,
    // Chosen on validation slices (docs/results/strategies/validation.md): with this bench's Adam steps the
    // global model itself diverges for α = 0.5 and 0.05.
    metaInnerLearningRate: 0.01,
    trimFraction: 0.25,
    byzantineClients: 0,
    multikrumSelected: 3,
  } as StrategySettings,
} as const;

const settings = STRATEGIES_DEFAULTS.settings;

export const STRATEGIES_OPTIONS = {
  ...withoutEnvironment({
    labelsPerClient: integerOption({ help: 'labelled training examples per client', min: 2, default: STRATEGIES_DEFAULTS.labelsPerClient, group: SUITE_GROUP }),
    seeds: integerListOption({ help: 'one federation per seed and row', min: 0, default: [...STRATEGIES_DEFAULTS.seeds], group: SUITE_GROUP }),
    strategies: stringListOption({ help: `subset of ${STRATEGY_NAMES.join(',')}`, defaultText: 'all', group: SUITE_GROUP }),
    // A string, not a list: '' (none) is a value here.
    attacked: stringOption({ help: "strategies also run under attack, comma-separated; none: ''", nonEmpty: false, default: STRATEGIES_DEFAULTS.attacked.join(','), valueName: 'A,B,…', group: SUITE_GROUP }),
    attacker: stringOption({ help: 'the attacking client', defaultText: 'the first domain', valueName: 'DOMAIN', group: SUITE_GROUP }),
    signFlipScale: numberOption({ help: 'the attacker sends −S × its honest delta', min: 0, minExclusive: true, default: STRATEGIES_DEFAULTS.signFlipScale, valueName: 'S', group: SUITE_GROUP }),
    fedyogiServerLr: numberOption({
      help: `fedyogi: server learning rate (β1 ${settings.fedyogi.beta1}, β2 ${settings.fedyogi.beta2}, τ ${settings.fedyogi.tau})`,
      min: 0,
      minExclusive: true,
      default: settings.fedyogi.serverLearningRate,
      group: SUITE_GROUP,
    }),
    fedadagradServerLr: numberOption({ help: `fedadagrad: server learning rate (τ ${settings.fedadagrad.tau})`, min: 0, minExclusive: true, default: settings.fedadagrad.serverLearningRate, group: SUITE_GROUP }),
    proximalMu: numberOption({ help: 'fedprox: μ', min: 0, default: settings.proximalMu, valueName: 'MU', group: SUITE_GROUP }),
    metaInnerLearningRate: numberOption({
      help: 'per-fedavg: α; its row scores the meta-learned global model itself, before any client adapts it',
      min: 0,
      minExclusive: true,
      default: settings.metaInnerLearningRate,
      valueName: 'A',
      group: SUITE_GROUP,
    }),
    trimFraction: numberOption({ help: 'trimmed-mean: β (the default trims one of four from each end)', min: 0, max: 0.5, minExclusive: true, maxExclusive: true, default: settings.trimFraction, valueName: 'B', group: SUITE_GROUP }),
    byzantineClients: integerOption({ help: 'krum, multikrum: f (Krum needs n > 2f + 2, so 4 clients allow only 0)', min: 0, default: settings.byzantineClients, valueName: 'F', group: SUITE_GROUP }),
    multikrumSelected: integerOption({ help: 'multikrum: updates averaged', min: 1, default: settings.multikrumSelected, valueName: 'M', group: SUITE_GROUP }),
  }),
  ...SHARED_OPTIONS,
  ...LOG_OPTIONS,
};
