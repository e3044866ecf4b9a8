// The fedavg-secagg row against the fedavg row: the same federation, once in the clear and once under secure
// aggregation (the coordinator only unmasks each round's sum). The issue asks that accuracy be the same to the
// fixed-point step; this compares every domain's accuracy after every round, and what each run cost per round.
import type { RoundRecord } from './federation-run';

/** What one run cost, per aggregated round. */
export interface RunCost {
  /** Protocol payload bytes per round, clients to coordinator (summed over clients). */
  bytesUp: number;
  /** Protocol payload bytes per round, coordinator to clients. */
  bytesDown: number;
  /** Mean wall seconds of a round, from its plan to its evaluation (the coordinator's record). */
  secondsPerRound: number;
}

export interface SecAggComparison {
  /** The row measured in the clear that fedavg-secagg is compared with. */
  comparedWith: 'fedavg';
  /** Rounds compared (aggregated in both runs) and domains compared in each. */
  rounds: number;
  domains: number;
  /** Largest |accuracy(fedavg-secagg) − accuracy(fedavg)| over every domain and round (a fraction, 0..1). */
  maxAccuracyDifference: number;
  /** Largest such difference in test examples of the domain (0: the same number right; 1: one example). */
  maxDifferenceInExamples: number;
  /** Where the largest difference is (the first such place); absent when every accuracy agrees exactly. */
  worst?: { domain: string; round: number };
  /** Largest |weight difference| between the two runs' final global models (their last checkpoints). */
  maxWeightDifference: number;
  plain: RunCost;
  secure: RunCost;
}

function meanOf(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** Mean bytes and seconds per aggregated round of one run. */
export function runCost(records: readonly RoundRecord[]): RunCost {
  return {
    bytesUp: meanOf(records.map((r) => r.bytesUp)),
    bytesDown: meanOf(records.map((r) => r.bytesDown)),
    secondsPerRound: meanOf(records.map((r) => r.seconds)),
  };
}

/**
 * Compares the per-domain accuracies of two runs of the same federation round by round (matched by round
 * number). A round or domain present in one run only, or an accuracy missing in either, makes the difference
 * infinite: the runs did not do the same thing.
 */
export function compareSecAgg(
  plain: readonly RoundRecord[],
  secure: readonly RoundRecord[],
  domains: readonly string[],
  evaluationExamples: Readonly<Record<string, number>>,
  maxWeightDifference: number,
): SecAggComparison {
  const byRound = (records: readonly RoundRecord[]) => new Map(records.map((r) => [r.round, r]));
  const plainRounds = byRound(plain);
  const secureRounds = byRound(secure);
  const rounds = [...new Set([...plainRounds.keys(), ...secureRounds.keys()])].sort((a, b) => a - b);
  let maxAccuracyDifference = 0;
  let maxDifferenceInExamples = 0;
  let worst: SecAggComparison['worst'];
  for (const round of rounds) {
    for (const domain of domains) {
      const a = plainRounds.get(round)?.clients[domain]?.accuracy;
      const b = secureRounds.get(round)?.clients[domain]?.accuracy;
      const difference = a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) ? Infinity : Math.abs(a - b);
      // Accuracies are counts over the test split: round away the float noise of the division.
      const examples = Number.isFinite(difference) ? Math.round(difference * (evaluationExamples[domain] ?? NaN)) : Infinity;
      if (examples > maxDifferenceInExamples) maxDifferenceInExamples = examples;
      if (difference > maxAccuracyDifference) {
        maxAccuracyDifference = difference;
        worst = { domain, round };
      }
    }
  }
  return {
    comparedWith: 'fedavg',
    rounds: rounds.length,
    domains: domains.length,
    maxAccuracyDifference,
    maxDifferenceInExamples,
    ...(worst ? { worst } : {}),
    maxWeightDifference,
    plain: runCost(plain),
    secure: runCost(secure),
  };
}
