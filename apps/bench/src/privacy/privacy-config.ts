// `bench privacy`: its declared options (privacy-options.ts) turned into PrivacyOptions, the --quick configuration
// filling in what was not given, with the checks a single declaration cannot make.
import { configError } from '@fedtl/util';
import type { OptionValues } from '@fedtl/util/options';
import { sharedOptionsFrom, type SharedBenchOptions } from '../domains/domains-config';
import { distinct, positiveNumbers, subsetOf } from '../option-checks';
import { PRIVACY_DEFAULTS, PRIVACY_STRATEGY_NAMES, QUICK, type ClientLevelOptions, type PRIVACY_OPTIONS, type PrivacyStrategyName } from './privacy-options';

export { PRIVACY_DEFAULTS, PRIVACY_STRATEGY_NAMES, QUICK, type ClientLevelOptions, type PrivacyStrategyName } from './privacy-options';

export interface PrivacyOptions extends SharedBenchOptions {
  /** Target ε per row; null is ε = ∞, the row without DP. */
  epsilons: Array<number | null>;
  delta: number;
  /** Record-level rows: labelled training examples per client (one client per domain). */
  labels: number[];
  seeds: number[];
  strategies: PrivacyStrategyName[];
  /** C: the L2 bound of one record's gradient in DP-SGD. */
  recordClipNorm: number;
  clientLevel: ClientLevelOptions;
  quick: boolean;
}

/** A list of ε: numbers > 0, or inf (∞) for none; distinct, in the given order. */
function epsilonsFrom(items: readonly string[]): Array<number | null> {
  const epsilons = items.map((item) => (item === 'inf' || item === '∞' ? null : positiveNumbers([item], '--epsilons')[0]));
  if (new Set(epsilons).size !== epsilons.length) throw configError('--epsilons', 'distinct numbers > 0 or inf', items.join(','));
  return epsilons;
}

/**
 * The suite's options from its resolved values, the full defaults (or --quick's) for what was not given.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming the flag: --data-dir or --out missing, a repeated ε, budget or
 *   seed, an ε that is not a number > 0 or inf, an unknown strategy.
 */
export function privacyOptionsFrom(v: OptionValues<typeof PRIVACY_OPTIONS>): PrivacyOptions {
  const base = v.quick ? { ...PRIVACY_DEFAULTS, ...QUICK } : PRIVACY_DEFAULTS;
  const c = base.clientLevel;
  return {
    ...sharedOptionsFrom({ ...v, rounds: v.rounds ?? base.rounds }),
    epsilons: v.epsilons === undefined ? [...base.epsilons] : epsilonsFrom(v.epsilons),
    delta: v.delta,
    labels: v.labels === undefined ? [...base.labels] : distinct(v.labels, '--labels', 'distinct integers >= 2'),
    seeds: v.seeds === undefined ? [...base.seeds] : distinct(v.seeds, '--seeds', 'distinct integers >= 0'),
    strategies: subsetOf(v.strategies ?? (v.quick ? QUICK.strategies : PRIVACY_STRATEGY_NAMES), PRIVACY_STRATEGY_NAMES, '--strategies'),
    recordClipNorm: v.recordClipNorm,
    clientLevel: {
      labelsPerDomain: v.clientLabels ?? c.labelsPerDomain,
      clients: v.clients ?? c.clients,
      alpha: v.dirichletAlpha,
      samplingRate: v.clientSamplingRate ?? c.samplingRate,
      rounds: v.clientRounds ?? c.rounds,
      clipNorm: v.updateClipNorm,
    },
    quick: v.quick,
  };
}

/** An ε as the tables show it. */
export function formatEpsilon(epsilon: number | null): string {
  return epsilon === null ? '∞' : String(epsilon);
}
