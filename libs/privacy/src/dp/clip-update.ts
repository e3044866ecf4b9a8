// Client-level DP-FedAvg's two operations on one client's update (McMahan, Ramage, Talwar, Zhang, "Learning
// Differentially Private Recurrent Language Models", ICLR 2018, Algorithm 1, the "flat clipping" of §3): scale the
// whole delta, every tensor together, to L2 norm at most S, and add Gaussian noise per coordinate. The client
// clips before it sends or masks (so the bound holds under secure aggregation, where nobody else sees the delta);
// the coordinator clips again what it receives in the clear. Works on plain arrays so both sides share it.
import { cryptoRandomness, type GaussianSource } from './crypto-randomness';

/** What clipping did: the norm before, and the factor applied (1 when the norm was within the bound). */
export interface ClipOutcome {
  norm: number;
  factor: number;
}

/** The L2 norm of all values of all arrays together, accumulated in float64. */
export function l2NormOf(values: readonly Float32Array[]): number {
  let sum = 0;
  for (const array of values) for (let i = 0; i < array.length; i++) sum += array[i] * array[i];
  return Math.sqrt(sum);
}

/**
 * Scales `values` in place so that their joint L2 norm is at most `clipNorm` (multiplies by min(1, S / norm)).
 * @throws RangeError unless clipNorm is finite and > 0, or when a value is not finite.
 */
export function clipInPlace(values: Float32Array[], clipNorm: number): ClipOutcome {
  if (!Number.isFinite(clipNorm) || clipNorm <= 0) throw new RangeError(`clipInPlace: expected a clip norm > 0 and finite, got ${clipNorm}`);
  const norm = l2NormOf(values);
  if (!Number.isFinite(norm)) throw new RangeError(`clipInPlace: expected finite values, got a norm of ${norm}`);
  if (norm <= clipNorm) return { norm, factor: 1 };
  // A hair under S / norm: float32 rounding of the scaled values must not push the norm back above S.
  const factor = (clipNorm / norm) * (1 - 1e-6);
  for (const array of values) for (let i = 0; i < array.length; i++) array[i] *= factor;
  return { norm, factor };
}

/**
 * Adds N(0, stddev²) to every value in place, drawing from `source` (default cryptoRandomness()).
 * @throws RangeError unless stddev is finite and ≥ 0.
 */
export function addGaussianNoiseInPlace(values: Float32Array[], stddev: number, source: GaussianSource = cryptoRandomness()): void {
  if (!Number.isFinite(stddev) || stddev < 0) throw new RangeError(`addGaussianNoiseInPlace: expected a standard deviation ≥ 0 and finite, got ${stddev}`);
  if (stddev === 0) return;
  for (const array of values) {
    const noise = source.gaussian(array.length);
    for (let i = 0; i < array.length; i++) array[i] += stddev * noise[i];
  }
}
