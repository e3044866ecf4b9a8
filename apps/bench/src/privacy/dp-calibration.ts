// The noise of every DP row, calibrated once for the whole run with the accountant's inverse (@fedtl/privacy's
// noiseMultiplierFor), so that the run spends at most its target ε at δ when it has done all its rounds:
//   - record-level (DP-SGD on each client): q = min(1, batch / n), steps = rounds × epochs × round(1/q), as the
//     client trains (libs/model dp-sgd.ts) and the coordinator's ledger counts (PROTOCOL §7.1);
//   - client-level (DP-FedAvg): q = the client-sampling rate, one step per round.
// ε = ∞ (null) is the row without DP.
import { dpStepsPerEpoch } from '@fedtl/model';
import { noiseMultiplierFor } from '@fedtl/privacy';

/** One Poisson-sampled Gaussian mechanism applied `steps` times, and the σ that keeps it within the target. */
export interface NoisePlan {
  samplingRate: number;
  steps: number;
  noiseMultiplier: number;
}

export interface RecordLevelRun {
  /** Target ε. */
  epsilon: number;
  delta: number;
  /** Each client's number of training examples (clients with fewer examples sample a larger share each step). */
  clientExamples: readonly number[];
  batchSize: number;
  localEpochs: number;
  rounds: number;
}

/** The record-level plan of one client with `n` examples. */
function recordPlan(run: RecordLevelRun, n: number): NoisePlan {
  const samplingRate = Math.min(1, run.batchSize / n);
  const steps = run.rounds * run.localEpochs * dpStepsPerEpoch(samplingRate);
  return { samplingRate, steps, noiseMultiplier: noiseMultiplierFor({ targetEpsilon: run.epsilon, delta: run.delta, samplingRate, steps }) };
}

/**
 * The σ every client trains with (the coordinator sends one σ to all): the largest any client needs to stay within
 * ε, so that the run's ε (the largest over its clients) is within it; with it, that client's q and steps.
 * @throws RangeError for no clients, or as noiseMultiplierFor does.
 */
export function recordLevelNoise(run: RecordLevelRun): NoisePlan {
  if (run.clientExamples.length === 0) throw new RangeError('recordLevelNoise: expected at least one client, got none');
  const plans = [...new Set(run.clientExamples)].map((n) => recordPlan(run, n));
  return plans.reduce((worst, plan) => (plan.noiseMultiplier > worst.noiseMultiplier ? plan : worst));
}

/** z for `rounds` rounds of DP-FedAvg at client-sampling rate q. @throws RangeError as noiseMultiplierFor does. */
export function clientLevelNoise(c: { epsilon: number; delta: number; samplingRate: number; rounds: number }): NoisePlan {
  return { samplingRate: c.samplingRate, steps: c.rounds, noiseMultiplier: noiseMultiplierFor({ targetEpsilon: c.epsilon, delta: c.delta, samplingRate: c.samplingRate, steps: c.rounds }) };
}
