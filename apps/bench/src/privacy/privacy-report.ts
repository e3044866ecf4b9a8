// What `bench privacy` writes to report.json: the record-level rows (real federations), the client-level rows
// (simulated in-process), the overhead of each kind of DP against plain FedAvg (real federations, side by side),
// and the context a reader needs to reproduce them. ε = ∞ (no DP) is `null` in JSON.
import type { ModelOptions, ServerOptimizerOptions, TrainingOptions } from '../domains/domains-config';
import { meanOf, type DomainsRunContext } from '../domains/report';
import { spreadOf, type Spread } from '../seed-spread';
import type { ClientLevelOptions, PrivacyStrategyName } from './privacy-config';

/** One run (a federation or a simulation) at one seed. Accuracies are test accuracies, fractions in [0, 1]. */
export interface PrivacySeedRun {
  seed: number;
  /** Unweighted mean over the domains. */
  mean: number;
  perDomain: Record<string, number>;
  /** The ε the run reports it spent at the suite's δ (the coordinator's summary.json or the simulation's ledger); null without DP. */
  spentEpsilon: number | null;
  seconds: number;
}

/** A row's runs, summarised over seeds. */
export interface PrivacyRow {
  strategy: PrivacyStrategyName;
  /** Target ε; null: no DP. */
  epsilon: number | null;
  /** σ (record-level) or z (client-level); null without DP. */
  noiseMultiplier: number | null;
  /** The mechanism's q and steps over the whole run (record-level: of the client that needs the most noise). */
  samplingRate: number | null;
  steps: number | null;
  runs: PrivacySeedRun[];
  mean: Spread;
  perDomain: Record<string, Spread>;
  /** The largest ε any seed's run reported spending. */
  spentEpsilon: number | null;
  /** Mean wall seconds of one run. */
  seconds: number;
}

export interface RecordLevelRow extends PrivacyRow {
  labelsPerClient: number;
}

export interface ClientLevelSection {
  /** Always true: these rows run in the bench process, with no sockets (see the report). */
  simulated: true;
  settings: ClientLevelOptions;
  /** Training examples per simulated client (of the first seed's split). */
  clientExamples: { min: number; median: number; max: number };
  /** Median L2 norm of the unclipped updates in the first no-DP row (what S = clipNorm bounds). */
  medianUpdateNorm: number | null;
  rows: PrivacyRow[];
}

export type OverheadName = 'fedavg' | 'record-dp' | 'client-dp' | 'client-dp-secagg';

export interface OverheadRow {
  name: OverheadName;
  /** Mean over rounds of the coordinator's per-round figures. */
  secondsPerRound: number;
  bytesUpPerRound: number;
  bytesDownPerRound: number;
  mean: number;
  noiseMultiplier: number | null;
  spentEpsilon: number | null;
  seconds: number;
}

export interface OverheadSection {
  labelsPerClient: number;
  seed: number;
  /** Target ε of the DP runs. */
  epsilon: number;
  /** Client-level runs: every client in every round (4 clients cannot be sampled meaningfully). */
  clientSamplingRate: number;
  rows: OverheadRow[];
}

export interface PrivacyReport extends Omit<DomainsRunContext, 'labelsPerClient'> {
  suite: 'privacy';
  delta: number;
  seeds: number[];
  hyperparameters: ModelOptions & TrainingOptions & { fedadam: ServerOptimizerOptions['fedadam']; recordClipNorm: number };
  recordLevel: RecordLevelRow[];
  clientLevel?: ClientLevelSection;
  overhead?: OverheadSection;
  /** The leakage audit re-run with DP lives in its own suite. */
  leakageReport: string;
}

/** A row from its runs (one per seed). @throws Error for no runs. */
export function summarizePrivacyRow(row: Omit<PrivacyRow, 'runs' | 'mean' | 'perDomain' | 'spentEpsilon' | 'seconds'>, runs: readonly PrivacySeedRun[]): PrivacyRow {
  if (runs.length === 0) throw new Error(`${row.strategy} at ε ${row.epsilon ?? '∞'}: expected at least one run, got none`);
  const domains = Object.keys(runs[0].perDomain);
  const spent = runs.map((r) => r.spentEpsilon).filter((e): e is number => e !== null);
  return {
    ...row,
    runs: [...runs],
    mean: spreadOf(runs.map((r) => r.mean)),
    perDomain: Object.fromEntries(domains.map((d) => [d, spreadOf(runs.map((r) => r.perDomain[d]))])),
    spentEpsilon: spent.length > 0 ? Math.max(...spent) : null,
    seconds: meanOf(runs.map((r) => r.seconds)),
  };
}

/** A seed run from per-domain accuracies. */
export function privacySeedRun(seed: number, perDomain: Record<string, number>, spentEpsilon: number | null, seconds: number): PrivacySeedRun {
  return { seed, mean: meanOf(Object.values(perDomain)), perDomain, spentEpsilon, seconds };
}

/** The median of a non-empty list (the mean of the middle two for an even length). */
export function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
