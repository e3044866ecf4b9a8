// The strategy table's report: one row per strategy (and per attacked strategy), each the mean and sample
// standard deviation over seeds (seed-spread.ts) of a real federation's final accuracy, and the targets checked on it.
import type { ModelOptions, ServerOptimizerOptions, TrainingOptions } from '../domains/domains-config';
import { meanOf, type DomainsRunContext } from '../domains/report';
import { spreadOf, type Spread } from '../seed-spread';
import { ROBUST_STRATEGY_NAMES, type StrategyName, type StrategySettings } from './strategies-config';

/** One federation: one row at one seed. Accuracies are fractions in [0, 1] after the last round. */
export interface SeedRun {
  seed: number;
  /** Unweighted mean over all domains, the attacker's included (it is evaluated honestly with the global model). */
  mean: number;
  /** Unweighted mean over the domains other than the attacker's (the same three in every row). */
  honestMean: number;
  perDomain: Record<string, number>;
  /** Protocol payload bytes per round, summed over clients. */
  bytesUp: number;
  bytesDown: number;
  seconds: number;
}

export interface StrategyRow {
  strategy: StrategyName;
  /** One of the clients (StrategiesReport.attack.client) sent −S × its honest delta every round. */
  attacked: boolean;
  runs: SeedRun[];
  mean: Spread;
  honestMean: Spread;
  perDomain: Record<string, Spread>;
  /** Mean over seeds of the per-round traffic. */
  bytesUp: number;
  bytesDown: number;
  /** Mean wall seconds of one federation. */
  seconds: number;
}

export interface TargetCheck {
  strategy: StrategyName;
  /** What the issue asks, in words. */
  target: string;
  /** The measured difference, in accuracy points (percentage points). */
  points: number;
  met: boolean;
}

export interface StrategiesReport extends DomainsRunContext {
  suite: 'strategies';
  seeds: number[];
  attack: { kind: 'scaled sign flip'; client: string; scale: number };
  hyperparameters: ModelOptions & TrainingOptions & { serverOptimizers: ServerOptimizerOptions; strategies: StrategySettings };
  rows: StrategyRow[];
  targets: TargetCheck[];
}

/** A row from its federations (one per seed), summarised over seeds. Throws for no runs. */
export function summarizeRow(strategy: StrategyName, attacked: boolean, runs: readonly SeedRun[]): StrategyRow {
  if (runs.length === 0) throw new Error(`${strategy}${attacked ? ' under attack' : ''}: expected at least one run, got none`);
  const domains = Object.keys(runs[0].perDomain);
  return {
    strategy,
    attacked,
    runs: [...runs],
    mean: spreadOf(runs.map((r) => r.mean)),
    honestMean: spreadOf(runs.map((r) => r.honestMean)),
    perDomain: Object.fromEntries(domains.map((d) => [d, spreadOf(runs.map((r) => r.perDomain[d]))])),
    bytesUp: meanOf(runs.map((r) => r.bytesUp)),
    bytesDown: meanOf(runs.map((r) => r.bytesDown)),
    seconds: meanOf(runs.map((r) => r.seconds)),
  };
}

/** The seed run's means: over every domain, and over every domain but the attacker's. */
export function seedRun(seed: number, perDomain: Record<string, number>, attacker: string, traffic: Pick<SeedRun, 'bytesUp' | 'bytesDown' | 'seconds'>): SeedRun {
  const honest = Object.entries(perDomain).filter(([domain]) => domain !== attacker);
  return { seed, mean: meanOf(Object.values(perDomain)), honestMean: meanOf(honest.map(([, accuracy]) => accuracy)), perDomain, ...traffic };
}

const points = (fraction: number) => 100 * fraction;

/**
 * The targets on the mean over all domains, for the rows present: each robust strategy loses at most 1
 * point against FedAvg with no attacker and loses at most 2 points of its own no-attack accuracy under attack;
 * FedAvg under attack drops by more than 5 points.
 */
export function checkTargets(rows: readonly StrategyRow[]): TargetCheck[] {
  const row = (strategy: StrategyName, attacked: boolean) => rows.find((r) => r.strategy === strategy && r.attacked === attacked);
  const checks: TargetCheck[] = [];
  const fedavg = row('fedavg', false);
  const fedavgAttacked = row('fedavg', true);
  for (const strategy of ROBUST_STRATEGY_NAMES) {
    const clean = row(strategy, false);
    if (!clean) continue;
    if (fedavg) {
      const change = points(clean.mean.mean - fedavg.mean.mean);
      checks.push({ strategy, target: 'no attacker: at most 1 point below fedavg', points: change, met: change >= -1 });
    }
    const attacked = row(strategy, true);
    if (attacked) {
      const change = points(attacked.mean.mean - clean.mean.mean);
      // "Within 2 points" read as a loss of at most 2: an attack that happened to help would not be a failure.
      checks.push({ strategy, target: 'under attack: at most 2 points below its no-attack accuracy', points: change, met: change >= -2 });
    }
  }
  if (fedavg && fedavgAttacked) {
    const change = points(fedavgAttacked.mean.mean - fedavg.mean.mean);
    checks.push({ strategy: 'fedavg', target: 'under attack: drops by more than 5 points', points: change, met: change < -5 });
  }
  return checks;
}
