// `bench privacy` flags, parsed and validated once here. The data, model and training flags are those of
// `bench domains` (SHARED_FLAGS, same defaults); this suite adds the privacy targets, the label budgets, the seeds,
// the strategies and the client-level simulation's settings. --quick is a tiny configuration for the e2e test.
import { parseArgs } from 'node:util';
import { parseInteger, parsePositiveNumber } from '@fedtl/util';
import { SHARED_FLAGS, SHARED_USAGE, bad, list, numberIn, parseSharedOptions, type SharedBenchOptions } from '../domains/domains-config';

/** FedAvg and the best server optimiser of docs/results/strategies/report.md (FedAdam, 73.5 ± 1.0 at 50 labels). */
export const PRIVACY_STRATEGY_NAMES = ['fedavg', 'fedadam'] as const;
export type PrivacyStrategyName = (typeof PRIVACY_STRATEGY_NAMES)[number];

/** The client-level rows: many clients simulated in this process. */
export interface ClientLevelOptions {
  /** Training examples per domain pooled and split among the clients. */
  labelsPerDomain: number;
  clients: number;
  /** Dirichlet concentration of the label split. */
  alpha: number;
  /** Poisson client-sampling rate q per round. */
  samplingRate: number;
  rounds: number;
  /** S: the L2 bound of a client's whole update. */
  clipNorm: number;
}

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

export const PRIVACY_DEFAULTS = {
  epsilons: [null, 8, 4, 2] as Array<number | null>,
  delta: 1e-5,
  labels: [200, 1600],
  seeds: [1],
  // Not tuned (no time for a validation sweep): 1 is the bound of Abadi et al.'s and Opacus's examples, and above
  // the norm of most per-example gradients of this small adapter and head at initialisation, so it mostly bounds
  // outliers; the noise's scale is σ·C either way.
  recordClipNorm: 1,
  clientLevel: { labelsPerDomain: 1600, clients: 100, alpha: 0.5, samplingRate: 0.1, rounds: 50, clipNorm: 1 } as ClientLevelOptions,
} as const;

/**
 * --quick: every part of the suite, as small as it goes (the fixture domains hold 12 training texts each); FedAvg
 * only, as six real federations already take a minute on two cores.
 */
export const QUICK = {
  epsilons: [null, 4] as Array<number | null>,
  strategies: ['fedavg'] as PrivacyStrategyName[],
  labels: [8],
  seeds: [1],
  rounds: 2,
  clientLevel: { labelsPerDomain: 12, clients: 6, alpha: 0.5, samplingRate: 0.5, rounds: 3, clipNorm: 1 } as ClientLevelOptions,
} as const;

const epsilonText = (e: number | null) => (e === null ? 'inf' : String(e));

export const PRIVACY_USAGE = `Usage: npm run bench -- privacy --data-dir DIR --out OUT [options]

What differential privacy costs in accuracy, time and bytes: record-level DP-SGD in real federations (one client
process per domain), client-level DP-FedAvg over many clients simulated in this process, and the overhead of each
(and of DP with secure aggregation) against plain FedAvg, measured side by side.

  --out OUT                  where report.json and report.md go (and runs/…, each federation's files)
  --epsilons a,b             target ε of each row, inf for no DP (default ${PRIVACY_DEFAULTS.epsilons.map(epsilonText).join(',')})
  --delta D                  δ of every guarantee (default ${PRIVACY_DEFAULTS.delta})
  --labels a,b               record-level rows: labelled training examples per client (default ${PRIVACY_DEFAULTS.labels.join(',')})
  --seeds a,b                one federation per seed and row (default ${PRIVACY_DEFAULTS.seeds.join(',')})
  --strategies a,b           subset of ${PRIVACY_STRATEGY_NAMES.join(',')} (default: both)
  --record-clip-norm C       DP-SGD's bound on one example's gradient (default ${PRIVACY_DEFAULTS.recordClipNorm})
  --client-labels N          client-level rows: training examples per domain, pooled (default ${PRIVACY_DEFAULTS.clientLevel.labelsPerDomain})
  --clients N                … split among N simulated clients (default ${PRIVACY_DEFAULTS.clientLevel.clients})
  --dirichlet-alpha A        … by a Dirichlet label split of concentration A (default ${PRIVACY_DEFAULTS.clientLevel.alpha})
  --client-sampling-rate Q   … each round each client trains with probability Q (default ${PRIVACY_DEFAULTS.clientLevel.samplingRate})
  --client-rounds R          … for R rounds (default ${PRIVACY_DEFAULTS.clientLevel.rounds})
  --update-clip-norm S       … DP-FedAvg's bound on a client's update (default ${PRIVACY_DEFAULTS.clientLevel.clipNorm})
  --quick                    a tiny configuration (epsilons inf,4, 8 labels, 2 rounds, fedavg, 6 simulated clients
                             for 3 rounds) for tests; explicit flags still apply
  --rounds R                 record-level and overhead federations' rounds (default 20)
${SHARED_USAGE}`;

const FLAGS = {
  ...SHARED_FLAGS,
  epsilons: { type: 'string' },
  delta: { type: 'string' },
  labels: { type: 'string' },
  seeds: { type: 'string' },
  strategies: { type: 'string' },
  'record-clip-norm': { type: 'string' },
  'client-labels': { type: 'string' },
  clients: { type: 'string' },
  'dirichlet-alpha': { type: 'string' },
  'client-sampling-rate': { type: 'string' },
  'client-rounds': { type: 'string' },
  'update-clip-norm': { type: 'string' },
  quick: { type: 'boolean' },
} as const;

/** A comma-separated list of ε: numbers > 0, or inf for none; distinct, in the given order. */
function parseEpsilons(value: string): Array<number | null> {
  const epsilons = list(value).map((item) => (item === 'inf' || item === '∞' ? null : parsePositiveNumber('--epsilons', item)));
  if (epsilons.length === 0 || new Set(epsilons).size !== epsilons.length) bad('--epsilons', 'distinct numbers > 0 or inf', value);
  return epsilons;
}

function distinctIntegers(flag: string, value: string, least: number): number[] {
  const values = list(value).map((item) => parseInteger(flag, item, least));
  if (values.length === 0 || new Set(values).size !== values.length) bad(flag, `distinct integers >= ${least}`, value);
  return values;
}

/**
 * The suite's options from its argv, defaults (or --quick's) filled in; 'help' for --help. Throws
 * FEDTL_ERR_BAD_CONFIG naming the flag, what it expects and what came.
 */
export function parsePrivacyArgs(argv: string[]): PrivacyOptions | 'help' {
  const { values: v } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  if (v.help) return 'help';
  const quick = v.quick ?? false;
  const shared = parseSharedOptions(v);
  const base = quick ? { ...PRIVACY_DEFAULTS, ...QUICK } : PRIVACY_DEFAULTS;
  const strategies = v.strategies === undefined ? (quick ? [...QUICK.strategies] : [...PRIVACY_STRATEGY_NAMES]) : list(v.strategies);
  for (const name of strategies) if (!(PRIVACY_STRATEGY_NAMES as readonly string[]).includes(name)) bad('--strategies', `a subset of ${PRIVACY_STRATEGY_NAMES.join(',')}`, name);
  if (strategies.length === 0) bad('--strategies', `a subset of ${PRIVACY_STRATEGY_NAMES.join(',')}`, v.strategies);
  const c = base.clientLevel;
  return {
    ...shared,
    rounds: v.rounds === undefined && quick ? QUICK.rounds : shared.rounds,
    epsilons: v.epsilons === undefined ? [...base.epsilons] : parseEpsilons(v.epsilons),
    delta: numberIn('--delta', v.delta, PRIVACY_DEFAULTS.delta, false, 1),
    labels: v.labels === undefined ? [...base.labels] : distinctIntegers('--labels', v.labels, 2),
    seeds: v.seeds === undefined ? [...base.seeds] : distinctIntegers('--seeds', v.seeds, 0),
    strategies: PRIVACY_STRATEGY_NAMES.filter((name) => strategies.includes(name)),
    recordClipNorm: numberIn('--record-clip-norm', v['record-clip-norm'], PRIVACY_DEFAULTS.recordClipNorm, false),
    clientLevel: {
      labelsPerDomain: v['client-labels'] === undefined ? c.labelsPerDomain : parseInteger('--client-labels', v['client-labels'], 2),
      clients: v.clients === undefined ? c.clients : parseInteger('--clients', v.clients, 2),
      alpha: numberIn('--dirichlet-alpha', v['dirichlet-alpha'], c.alpha, false),
      samplingRate: v['client-sampling-rate'] === undefined ? c.samplingRate : parsePositiveNumber('--client-sampling-rate', v['client-sampling-rate'], 1),
      rounds: v['client-rounds'] === undefined ? c.rounds : parseInteger('--client-rounds', v['client-rounds'], 1),
      clipNorm: numberIn('--update-clip-norm', v['update-clip-norm'], c.clipNorm, false),
    },
    quick,
  };
}

/** An ε as the tables show it. */
export function formatEpsilon(epsilon: number | null): string {
  return epsilon === null ? '∞' : String(epsilon);
}
