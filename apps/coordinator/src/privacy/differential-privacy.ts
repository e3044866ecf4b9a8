// The coordinator's side of differential privacy (docs/PROTOCOL.md §7.1): what each round's plan asks of the
// clients, whom a client-level round samples, what a round costs in the ledger's terms, and the refusal of a
// round that would overspend the run's budget. The ledger itself (what composes with what) is @fedtl/privacy's.
import { dpStepsPerEpoch } from '@fedtl/model';
import type { TrainingConfig } from '@fedtl/protocol';
import { cryptoRandomness, type DpRandomness, type PrivacyBudget, type PrivacyEvent, type PrivacyLedger, type PrivacySpend } from '@fedtl/privacy';
import { FedtlError } from '@fedtl/util';

/** Record-level DP-SGD on every client: the unit of privacy is one example of one organisation. */
export interface RecordLevelDp {
  unit: 'record';
  /** C > 0: the bound of one example's gradient. */
  clipNorm: number;
  /** σ > 0. */
  noiseMultiplier: number;
}

/** Client-level DP-FedAvg: the unit of privacy is one organisation. */
export interface ClientLevelDp {
  unit: 'client';
  /** S > 0: the bound of one client's update. */
  clipNorm: number;
  /** z > 0: the noise of the sum is N(0, z²S²). */
  noiseMultiplier: number;
  /** q ∈ (0, 1]: each eligible client's probability of being in a round. */
  samplingRate: number;
}

export interface DifferentialPrivacyOptions {
  mechanism: RecordLevelDp | ClientLevelDp;
  /** Absent: the ledger is kept and reported, nothing is refused. */
  budget?: PrivacyBudget;
  /** δ at which every ε is reported (the budget's when there is one). */
  delta: number;
  /** The ledger the run starts with (a resumed run's, or an --init-from source's); absent: the checkpoint's. */
  initialEvents?: PrivacyEvent[];
  /** Stores the whole ledger (run-ledger-file.ts); awaited after every charge, before what was charged is released. */
  persist?: (events: PrivacyEvent[]) => Promise<void>;
}

/** The plan's DP terms (round.proto 18-20); the clients' share of the noise under secure aggregation is added later. */
export function planTerms(mechanism: RecordLevelDp | ClientLevelDp): Partial<TrainingConfig> {
  return mechanism.unit === 'record'
    ? { recordClipNorm: mechanism.clipNorm, recordNoiseMultiplier: mechanism.noiseMultiplier }
    : { updateClipNorm: mechanism.clipNorm };
}

/**
 * A Poisson sample of `eligible`: each id independently with probability q, from node:crypto (the sample must be
 * secret for the amplification the accountant credits). Order kept.
 */
export function poissonSample(eligible: readonly string[], samplingRate: number, randomness: DpRandomness = cryptoRandomness()): string[] {
  if (samplingRate >= 1) return eligible.slice();
  return eligible.filter(() => randomness.uniform() < samplingRate);
}

/**
 * What a round spends. Record-level: one event per selected client, its own q = min(1, batch / n) over the
 * examples it declared and epochs × round(1/q) steps (DP-SGD's Poisson sampling, libs/model dp-sgd.ts). Client-level:
 * one step of the sampled Gaussian with the run's q and z.
 */
export function roundEvents(round: number, mechanism: RecordLevelDp | ClientLevelDp, training: Pick<TrainingConfig, 'batchSize' | 'localEpochs'>, declaredExamples: ReadonlyMap<string, number>): PrivacyEvent[] {
  if (mechanism.unit === 'client') {
    return [{ round, unit: 'client', mechanism: 'poisson-sampled-gaussian', samplingRate: mechanism.samplingRate, noiseMultiplier: mechanism.noiseMultiplier, steps: 1 }];
  }
  return [...declaredExamples].map(([clientId, n]) => {
    const samplingRate = Math.min(1, training.batchSize / n);
    return {
      round,
      unit: 'record' as const,
      mechanism: 'poisson-sampled-gaussian' as const,
      samplingRate,
      noiseMultiplier: mechanism.noiseMultiplier,
      steps: training.localEpochs * dpStepsPerEpoch(samplingRate),
      subject: clientId,
    };
  });
}

/** "ε = 1.92 at δ = 1e-5 (client-level, 6 rounds)" for logs and errors. */
export function describeSpend(spend: PrivacySpend): string {
  const whose = spend.unit === 'record' ? `record-level, on ${spend.subject ? `client "${spend.subject}"'s` : 'one client\'s'} data` : 'client-level';
  return `ε = ${spend.epsilon.toPrecision(4)} at δ = ${spend.delta} (${whose}, ${spend.events} event${spend.events === 1 ? '' : 's'})`;
}

/**
 * Throws FEDTL_ERR_PRIVACY_BUDGET when `events` would take the ledger over the budget, naming the budget, what is
 * spent and what the round would bring; does nothing without a budget.
 */
export function checkRoundBudget(round: number, ledger: PrivacyLedger, options: DifferentialPrivacyOptions, events: readonly PrivacyEvent[]): void {
  const budget = options.budget;
  if (!budget) return;
  const over = ledger.overBudget(budget, events);
  if (!over) return;
  const spent = over.now ? describeSpend(over.now) : 'nothing';
  throw new FedtlError(
    'FEDTL_ERR_PRIVACY_BUDGET',
    `round ${round} would take the run to ${describeSpend(over.would)}, over its budget of ε = ${budget.epsilon} at δ = ${budget.delta} (--dp-epsilon, --dp-delta); spent so far: ${spent}. ${
      round > 1 ? `The run stops at round ${round - 1}, whose checkpoint holds the last weights within the budget` : 'No round of this run fits the budget: raise --dp-epsilon or the noise'
    }`,
  );
}
