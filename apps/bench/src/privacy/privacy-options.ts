// `fedtl bench privacy`: its options, declared once. The data, model and training options are those of
// `bench domains` (SHARED_OPTIONS, same defaults); this suite adds the privacy targets, the label budgets, the
// seeds, the strategies and the client-level simulation's settings. --quick is a tiny configuration for the e2e
// test: the options it shrinks have no declared default, privacy-config.ts fills in the full or the quick one.
import { booleanOption, integerListOption, integerOption, numberOption, stringListOption, LOG_OPTIONS } from '@fedtl/util/options';
import { DOMAINS_DEFAULTS, SHARED_OPTIONS, SUITE_GROUP, withoutEnvironment } from '../shared-options';

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

export const PRIVACY_DEFAULTS = {
  epsilons: [null, 8, 4, 2] as Array<number | null>,
  delta: 1e-5,
  labels: [200, 1600],
  seeds: [1],
  // Not tuned (no time for a validation sweep): 1 is the bound of Abadi et al.'s and Opacus's examples, and above
  // the norm of most per-example gradients of this small adapter and head at initialisation, so it mostly bounds
  // outliers; the noise's scale is σ·C either way.
  recordClipNorm: 1,
  rounds: DOMAINS_DEFAULTS.rounds,
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
const CLIENT_LEVEL = 'Client-level rows (DP-FedAvg, many clients simulated in this process):';
const full = PRIVACY_DEFAULTS;
const quick = QUICK;
const both = (fullText: unknown, quickText: unknown) => `${fullText}; --quick ${quickText}`;

export const PRIVACY_OPTIONS = {
  ...SHARED_OPTIONS,
  ...withoutEnvironment({
    rounds: integerOption({ help: 'rounds of the record-level and overhead federations', min: 1, defaultText: both(full.rounds, quick.rounds), valueName: 'R', group: SUITE_GROUP }),
    epsilons: stringListOption({ help: 'target ε of each row, inf for no DP', defaultText: both(full.epsilons.map(epsilonText).join(','), quick.epsilons.map(epsilonText).join(',')), valueName: 'E,E,…', group: SUITE_GROUP }),
    delta: numberOption({ help: 'δ of every guarantee', min: 0, max: 1, minExclusive: true, maxExclusive: true, default: full.delta, valueName: 'D', group: SUITE_GROUP }),
    labels: integerListOption({ help: 'record-level rows: labelled training examples per client', min: 2, defaultText: both(full.labels.join(','), quick.labels.join(',')), group: SUITE_GROUP }),
    seeds: integerListOption({ help: 'one federation per seed and row', min: 0, defaultText: both(full.seeds.join(','), quick.seeds.join(',')), group: SUITE_GROUP }),
    strategies: stringListOption({ help: `subset of ${PRIVACY_STRATEGY_NAMES.join(',')}`, defaultText: both('both', quick.strategies.join(',')), group: SUITE_GROUP }),
    recordClipNorm: numberOption({ help: "DP-SGD's bound C on one example's gradient", min: 0, minExclusive: true, default: full.recordClipNorm, valueName: 'C', group: SUITE_GROUP }),
    clientLabels: integerOption({ help: 'training examples per domain, pooled', min: 2, defaultText: both(full.clientLevel.labelsPerDomain, quick.clientLevel.labelsPerDomain), group: CLIENT_LEVEL }),
    clients: integerOption({ help: '… split among N simulated clients', min: 2, defaultText: both(full.clientLevel.clients, quick.clientLevel.clients), group: CLIENT_LEVEL }),
    dirichletAlpha: numberOption({ help: '… by a Dirichlet label split of concentration A', min: 0, minExclusive: true, default: full.clientLevel.alpha, valueName: 'A', group: CLIENT_LEVEL }),
    clientSamplingRate: numberOption({ help: '… each round each client trains with probability Q', min: 0, max: 1, minExclusive: true, defaultText: both(full.clientLevel.samplingRate, quick.clientLevel.samplingRate), valueName: 'Q', group: CLIENT_LEVEL }),
    clientRounds: integerOption({ help: '… for R rounds', min: 1, defaultText: both(full.clientLevel.rounds, quick.clientLevel.rounds), valueName: 'R', group: CLIENT_LEVEL }),
    updateClipNorm: numberOption({ help: "… DP-FedAvg's bound S on a client's update", min: 0, minExclusive: true, default: full.clientLevel.clipNorm, valueName: 'S', group: CLIENT_LEVEL }),
    quick: booleanOption({ help: `a tiny configuration (epsilons inf,4, 8 labels, 2 rounds, fedavg, 6 simulated clients for 3 rounds) for tests; explicit flags still apply`, group: SUITE_GROUP }),
  }),
  ...LOG_OPTIONS,
};
