// `bench strategies` flags, parsed and validated once here. The data, model and training flags are those of
// `bench domains` (SHARED_FLAGS, same defaults); this suite adds the seeds, the strategies, their settings and the
// attack.
import { parseArgs } from 'node:util';
import { FEDPROX_DEFAULTS, FEDYOGI_DEFAULTS } from '@fedtl/strategies';
import { configError, parseInteger } from '@fedtl/util';
import { DOMAINS_DEFAULTS, SHARED_FLAGS, SHARED_USAGE, bad, list, numberIn, parseSharedOptions, type SharedBenchOptions } from '../domains/domains-config';
import type { FederationStrategy } from '../domains/federation-run';

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

export const STRATEGIES_DEFAULTS = {
  labelsPerClient: 50,
  seeds: [1, 2, 3, 4, 5],
  attacked: ['fedavg', ...ROBUST_STRATEGY_NAMES] as StrategyName[],
  signFlipScale: 10,
  settings: {
    // Not tuned: FedYogi takes the validated FedAdam row's step and the library's β and τ; FedAdagrad, whose
    // accumulated second moment only shrinks its steps, a larger one.
    fedyogi: { ...FEDYOGI_DEFAULTS, serverLearningRate: DOMAINS_DEFAULTS.serverOptimizers.fedadam.serverLearningRate },
    fedadagrad: { serverLearningRate: 0.01, beta1: 0, tau: 1e-3 },
    proximalMu: FEDPROX_DEFAULTS.proximalMu,
    // Chosen on validation slices (docs/results/strategies/validation.md): with this bench's Adam steps the
    // global model itself diverges for α = 0.5 and 0.05.
    metaInnerLearningRate: 0.01,
    trimFraction: 0.25,
    byzantineClients: 0,
    multikrumSelected: 3,
  } as StrategySettings,
} as const;

export const STRATEGIES_USAGE = `Usage: npm run bench -- strategies --data-dir DIR --out OUT [options]

Every aggregation strategy as a real federation (one client process per domain), over several seeds, and the
robust ones (plus fedavg) again with one client sending −S × its honest delta (scaled sign flip).

  --out OUT                  where report.json and report.md go (and runs/seed-N/ROW/, each federation's files)
  --labels-per-client N      labelled training examples per client (default ${STRATEGIES_DEFAULTS.labelsPerClient})
  --seeds a,b,c              one federation per seed and row (default ${STRATEGIES_DEFAULTS.seeds.join(',')})
  --strategies a,b           subset of ${STRATEGY_NAMES.join(',')} (default: all)
  --attacked a,b             strategies also run under attack (default ${STRATEGIES_DEFAULTS.attacked.join(',')}; none: '')
  --attacker DOMAIN          the attacking client (default: the first domain)
  --sign-flip-scale S        the attacker sends −S × its honest delta (default ${STRATEGIES_DEFAULTS.signFlipScale})
  --fedyogi-server-lr X      fedyogi: server learning rate (default ${STRATEGIES_DEFAULTS.settings.fedyogi.serverLearningRate}; β1 ${STRATEGIES_DEFAULTS.settings.fedyogi.beta1}, β2 ${STRATEGIES_DEFAULTS.settings.fedyogi.beta2}, τ ${STRATEGIES_DEFAULTS.settings.fedyogi.tau})
  --fedadagrad-server-lr X   fedadagrad: server learning rate (default ${STRATEGIES_DEFAULTS.settings.fedadagrad.serverLearningRate}; τ ${STRATEGIES_DEFAULTS.settings.fedadagrad.tau})
  --proximal-mu MU           fedprox: μ ≥ 0 (default ${STRATEGIES_DEFAULTS.settings.proximalMu})
  --meta-inner-learning-rate A  per-fedavg: α (default ${STRATEGIES_DEFAULTS.settings.metaInnerLearningRate}); its row scores the
                             meta-learned global model itself, before any client adapts it
  --trim-fraction B          trimmed-mean: β in (0, 0.5) (default ${STRATEGIES_DEFAULTS.settings.trimFraction}: one of four trimmed from each end)
  --byzantine-clients F      krum, multikrum: f (default ${STRATEGIES_DEFAULTS.settings.byzantineClients}; Krum needs n > 2f + 2, so 4 clients allow only 0)
  --multikrum-selected M     multikrum: updates averaged (default ${STRATEGIES_DEFAULTS.settings.multikrumSelected})
${SHARED_USAGE}`;

const FLAGS = {
  ...SHARED_FLAGS,
  'labels-per-client': { type: 'string' },
  seeds: { type: 'string' },
  strategies: { type: 'string' },
  attacked: { type: 'string' },
  attacker: { type: 'string' },
  'sign-flip-scale': { type: 'string' },
  'fedyogi-server-lr': { type: 'string' },
  'fedadagrad-server-lr': { type: 'string' },
  'proximal-mu': { type: 'string' },
  'meta-inner-learning-rate': { type: 'string' },
  'trim-fraction': { type: 'string' },
  'byzantine-clients': { type: 'string' },
  'multikrum-selected': { type: 'string' },
} as const;

/** Names from a comma-separated flag, each one of STRATEGY_NAMES, returned in the table's order. */
function strategyList(flag: string, value: string | undefined, fallback: readonly StrategyName[]): StrategyName[] {
  const names = value === undefined ? fallback : list(value);
  for (const name of names) if (!(STRATEGY_NAMES as readonly string[]).includes(name)) bad(flag, `a subset of ${STRATEGY_NAMES.join(',')}`, name);
  return STRATEGY_NAMES.filter((name) => names.includes(name));
}

/**
 * The suite's options from its argv, defaults filled in; 'help' for --help. Throws FEDTL_ERR_BAD_CONFIG naming the
 * flag, what it expects and what came (an unknown flag: the parser's own error).
 */
export function parseStrategiesArgs(argv: string[]): StrategiesOptions | 'help' {
  const { values: v } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  if (v.help) return 'help';
  const shared = parseSharedOptions(v);
  const seeds = v.seeds === undefined ? [...STRATEGIES_DEFAULTS.seeds] : list(v.seeds).map((seed) => parseInteger('--seeds', seed, 0));
  if (seeds.length === 0 || new Set(seeds).size !== seeds.length) bad('--seeds', 'distinct integers >= 0', v.seeds);
  const strategies = strategyList('--strategies', v.strategies, STRATEGY_NAMES);
  if (strategies.length === 0) bad('--strategies', `a subset of ${STRATEGY_NAMES.join(',')}`, v.strategies);
  const defaults = STRATEGIES_DEFAULTS.settings;
  const trimFraction = numberIn('--trim-fraction', v['trim-fraction'], defaults.trimFraction, false, 0.5);
  return {
    ...shared,
    labelsPerClient: v['labels-per-client'] === undefined ? STRATEGIES_DEFAULTS.labelsPerClient : parseInteger('--labels-per-client', v['labels-per-client'], 2),
    seeds,
    strategies,
    attacked: strategyList('--attacked', v.attacked, STRATEGIES_DEFAULTS.attacked),
    ...(v.attacker === undefined ? {} : { attacker: v.attacker }),
    signFlipScale: numberIn('--sign-flip-scale', v['sign-flip-scale'], STRATEGIES_DEFAULTS.signFlipScale, false),
    settings: {
      fedyogi: { ...defaults.fedyogi, serverLearningRate: numberIn('--fedyogi-server-lr', v['fedyogi-server-lr'], defaults.fedyogi.serverLearningRate, false) },
      fedadagrad: { ...defaults.fedadagrad, serverLearningRate: numberIn('--fedadagrad-server-lr', v['fedadagrad-server-lr'], defaults.fedadagrad.serverLearningRate, false) },
      proximalMu: numberIn('--proximal-mu', v['proximal-mu'], defaults.proximalMu, true),
      metaInnerLearningRate: numberIn('--meta-inner-learning-rate', v['meta-inner-learning-rate'], defaults.metaInnerLearningRate, false),
      trimFraction,
      byzantineClients: v['byzantine-clients'] === undefined ? defaults.byzantineClients : parseInteger('--byzantine-clients', v['byzantine-clients'], 0),
      multikrumSelected: v['multikrum-selected'] === undefined ? defaults.multikrumSelected : parseInteger('--multikrum-selected', v['multikrum-selected'], 1),
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
