// The noise multiplier that a target (ε, δ) allows: the inverse of the accountant, by bisection on σ (ε is
// decreasing in σ for fixed q, steps and δ). The same search as tensorflow_privacy's compute_noise
// (tensorflow_privacy/privacy/analysis/compute_noise_from_budget_lib.py) and dp_accounting's
// calibrate_dp_mechanism, on fedtl's accountant.
import { RdpAccountant } from './rdp-accountant';

export interface NoiseCalibration {
  /** ε to stay within. */
  targetEpsilon: number;
  delta: number;
  /** q ∈ (0, 1]. */
  samplingRate: number;
  /** Steps of the mechanism over the whole run. */
  steps: number;
  /** Relative precision of the answer (default 1e-4). */
  tolerance?: number;
}

function epsilonAt(noiseMultiplier: number, c: NoiseCalibration): number {
  return new RdpAccountant().compose({ samplingRate: c.samplingRate, noiseMultiplier, steps: c.steps }).epsilon(c.delta);
}

/**
 * The smallest noise multiplier σ (to `tolerance`, rounded up) whose `steps` Poisson-sampled Gaussian steps at
 * `samplingRate` spend at most `targetEpsilon` at `delta`.
 * @throws RangeError for a target that is not finite and > 0, q outside (0, 1], steps not an integer ≥ 1, δ outside
 *   (0, 1), or a target no σ up to 1e6 reaches.
 */
export function noiseMultiplierFor(c: NoiseCalibration): number {
  if (!Number.isFinite(c.targetEpsilon) || c.targetEpsilon <= 0) throw new RangeError(`noiseMultiplierFor: expected a target epsilon > 0 and finite, got ${c.targetEpsilon}`);
  if (!(c.samplingRate > 0 && c.samplingRate <= 1)) throw new RangeError(`noiseMultiplierFor: expected a sampling rate in (0, 1], got ${c.samplingRate}`);
  if (!Number.isInteger(c.steps) || c.steps < 1) throw new RangeError(`noiseMultiplierFor: expected steps to be an integer ≥ 1, got ${c.steps}`);
  if (!(c.delta > 0 && c.delta < 1)) throw new RangeError(`noiseMultiplierFor: expected delta in (0, 1), got ${c.delta}`);
  const tolerance = c.tolerance ?? 1e-4;
  let high = 1;
  while (epsilonAt(high, c) > c.targetEpsilon) {
    high *= 2;
    if (high > 1e6) throw new RangeError(`noiseMultiplierFor: no noise multiplier up to 1e6 reaches epsilon ${c.targetEpsilon} at delta ${c.delta} over ${c.steps} steps at q = ${c.samplingRate}`);
  }
  let low = high / 2;
  if (epsilonAt(low, c) <= c.targetEpsilon) low = 0;
  while ((high - low) / high > tolerance) {
    const middle = (low + high) / 2;
    if (epsilonAt(middle, c) <= c.targetEpsilon) high = middle;
    else low = middle;
  }
  return high;
}
