// What the cross-task experiment reports: per (target budget, init) the mean over seeds of the final global
// model's accuracy and macro-F1 with the sample standard deviation (seed-spread.ts), per-domain means, and the init-from − scratch
// difference paired by seed (both runs of a pair share the seed, so the same draw of reviews, the same fresh head
// and the same shuffles: the difference is the initialisation's alone).
import type { ModelOptions, TrainingOptions } from '../domains/domains-config';
import type { EmbeddingSummary } from '../domains/feature-store';
import { meanOf } from '../domains/report';
import type { MachineInfo } from '../machine';
import { pairedDifference, spreadOf, type Spread } from '../seed-spread';
import type { ConstantBaselines } from './rating-data';

export const INITS = ['init-from', 'scratch'] as const;
/** How a target federation starts: from the source run's global weights (adapter kept, new head) or fresh. */
export type Init = (typeof INITS)[number];

/** One federation's final global model as its clients evaluated it (the last aggregated round's record). */
export interface FederationOutcome {
  /** Per domain: accuracy and macro-F1 on its evaluation set, in [0, 1]. */
  perDomain: Record<string, { accuracy: number; macroF1: number }>;
  /** Unweighted mean over the domains. */
  accuracy: number;
  macroF1: number;
  /** Mean accuracy over the domains after each round, round 1 first. */
  curve: number[];
  /** Wall seconds from the first process started to the last exited. */
  seconds: number;
}

/** Everything one seed ran. */
export interface SeedRuns {
  seed: number;
  /** The sentiment federation (evaluated on sentiment labels). */
  source: FederationOutcome;
  /** By target budget (labels per client, as a string key), then by init. */
  targets: Record<string, Record<Init, FederationOutcome>>;
}

export interface CrossTaskRow {
  labelsPerClient: number;
  init: Init;
  accuracy: Spread;
  macroF1: Spread;
  /** Per domain, the accuracy's spread over seeds. */
  perDomain: Record<string, Spread>;
  /** Mean accuracy over domains and seeds after each round. */
  curve: number[];
}

export interface CrossTaskDifference {
  labelsPerClient: number;
  /** init-from − scratch accuracy, paired by seed. */
  accuracy: Spread;
  macroF1: Spread;
  /** The accuracy difference of each seed, in the order of `CrossTaskReport.seeds`. */
  perSeed: number[];
  /** Seeds where init-from's accuracy is strictly higher. */
  initFromBetterIn: number;
}

export interface CrossTaskReport {
  suite: 'cross-task';
  backbone: { id: string; hash: string };
  domains: string[];
  seeds: number[];
  rounds: number;
  evaluatedOn: 'test' | 'validation';
  source: { task: 'sentiment'; labels: string[]; labelsPerClient: number; accuracy: Spread; macroF1: Spread; perDomain: Record<string, Spread> };
  target: { task: 'rating'; labels: string[]; labelsPerClient: number[] };
  /** Constant predictors on the rating task's evaluation sets. */
  reference: ConstantBaselines & { majorityClassMean: number };
  rows: CrossTaskRow[];
  differences: CrossTaskDifference[];
  evaluationExamples: Record<string, number>;
  hyperparameters: ModelOptions & TrainingOptions;
  backend: string;
  machine: MachineInfo;
  embedding: EmbeddingSummary;
  /** Wall seconds of the whole command, embedding included. */
  seconds: number;
  command: string;
  perSeed: SeedRuns[];
}

function perDomainSpread(outcomes: readonly FederationOutcome[], domains: readonly string[]): Record<string, Spread> {
  return Object.fromEntries(domains.map((domain) => [domain, spreadOf(outcomes.map((o) => o.perDomain[domain].accuracy))]));
}

/** Mean over outcomes of each round's value (over the rounds all of them reached). */
function meanCurve(outcomes: readonly FederationOutcome[]): number[] {
  const rounds = Math.min(...outcomes.map((o) => o.curve.length));
  return Array.from({ length: Number.isFinite(rounds) ? rounds : 0 }, (_, i) => meanOf(outcomes.map((o) => o.curve[i])));
}

/** The rows (budget × init), the paired differences and the source's summary from every seed's runs. */
export function summarise(
  perSeed: readonly SeedRuns[],
  domains: readonly string[],
  targetLabelsPerClient: readonly number[],
): Pick<CrossTaskReport, 'rows' | 'differences'> & { source: Pick<CrossTaskReport['source'], 'accuracy' | 'macroF1' | 'perDomain'> } {
  const outcomes = (budget: number, init: Init) => perSeed.map((runs) => runs.targets[String(budget)][init]);
  const rows = targetLabelsPerClient.flatMap((labelsPerClient) =>
    INITS.map((init): CrossTaskRow => {
      const runs = outcomes(labelsPerClient, init);
      return {
        labelsPerClient,
        init,
        accuracy: spreadOf(runs.map((o) => o.accuracy)),
        macroF1: spreadOf(runs.map((o) => o.macroF1)),
        perDomain: perDomainSpread(runs, domains),
        curve: meanCurve(runs),
      };
    }),
  );
  const differences = targetLabelsPerClient.map((labelsPerClient): CrossTaskDifference => {
    const initFrom = outcomes(labelsPerClient, 'init-from');
    const scratch = outcomes(labelsPerClient, 'scratch');
    return {
      labelsPerClient,
      accuracy: pairedDifference(initFrom.map((o) => o.accuracy), scratch.map((o) => o.accuracy)),
      macroF1: pairedDifference(initFrom.map((o) => o.macroF1), scratch.map((o) => o.macroF1)),
      perSeed: initFrom.map((o, i) => o.accuracy - scratch[i].accuracy),
      initFromBetterIn: initFrom.filter((o, i) => o.accuracy > scratch[i].accuracy).length,
    };
  });
  const sources = perSeed.map((runs) => runs.source);
  return {
    rows,
    differences,
    source: { accuracy: spreadOf(sources.map((o) => o.accuracy)), macroF1: spreadOf(sources.map((o) => o.macroF1)), perDomain: perDomainSpread(sources, domains) },
  };
}
