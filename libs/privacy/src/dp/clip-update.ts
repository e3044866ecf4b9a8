// A client's part of client-level differential privacy: DP-FedAvg (McMahan, Ramage, Talwar, Zhang, "Learning
// Differentially Private Recurrent Language Models", ICLR 2018, https://arxiv.org/abs/1710.06963, Algorithm 1,
// ClipFn "flat clipping"). The client scales its whole delta, every trained tensor together, into the L2 ball of
// radius S, so that one client's presence moves the sum of updates by at most S; then, when the plan asks for it
// (under secure aggregation each client adds its share of the sum's noise, PROTOCOL.md §7.1), it adds independent
// Gaussian noise N(0, s²) to every coordinate.
//
// The noise must be secret from whoever sees the update: the caller passes the operating system's generator
// (@fedtl/model's cryptoRandomness()); tests inject a seeded one. Pure: the input is never modified.

/** Where the noise comes from: `count` independent standard normal numbers per call. */
export interface GaussianSource {
  gaussian(count: number): Float64Array;
}

export interface ClippedDelta {
  /** The delta after clipping and noise, one new array per input tensor, same lengths and order. */
  deltas: Float32Array[];
  /** ‖Δ‖₂ over every tensor together, before clipping. */
  normBefore: number;
  /** The factor the delta was scaled by: min(1, S / ‖Δ‖₂). 1 when it was within the bound. */
  clipFactor: number;
}

/**
 * Δ · min(1, S / ‖Δ‖₂) + N(0, s²) per coordinate (McMahan et al. 2018, flat clipping). The norm is computed in
 * float64 over all tensors together; without noise the result's norm is at most S up to float32 rounding.
 * @param clipNorm S > 0 and finite.
 * @param noiseStddev s ≥ 0 and finite; 0 adds nothing and draws nothing from `randomness`.
 * @throws RangeError for an S or s out of range, or a delta that is not finite (its norm would be meaningless).
 */
export function clipAndNoiseDelta(deltas: readonly Float32Array[], clipNorm: number, noiseStddev: number, randomness: GaussianSource): ClippedDelta {
  if (!(clipNorm > 0) || !Number.isFinite(clipNorm)) throw new RangeError(`clipAndNoiseDelta: expected a clip norm S > 0 and finite, got ${clipNorm}`);
  if (!(noiseStddev >= 0) || !Number.isFinite(noiseStddev)) throw new RangeError(`clipAndNoiseDelta: expected a noise standard deviation s ≥ 0 and finite, got ${noiseStddev}`);
  let sumSquares = 0;
  deltas.forEach((delta, t) => {
    for (let i = 0; i < delta.length; i++) {
      if (!Number.isFinite(delta[i])) throw new RangeError(`clipAndNoiseDelta: expected a finite delta, got ${delta[i]} in tensor ${t} at index ${i}`);
      sumSquares += delta[i] * delta[i];
    }
  });
  const normBefore = Math.sqrt(sumSquares);
  const clipFactor = normBefore > clipNorm ? clipNorm / normBefore : 1;
  const out = deltas.map((delta) => {
    const noise = noiseStddev > 0 ? randomness.gaussian(delta.length) : undefined;
    const result = new Float32Array(delta.length);
    for (let i = 0; i < delta.length; i++) result[i] = delta[i] * clipFactor + (noise ? noiseStddev * noise[i] : 0);
    return result;
  });
  return { deltas: out, normBefore, clipFactor };
}
