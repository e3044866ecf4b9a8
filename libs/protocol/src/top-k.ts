// Top-k sparsification of one tensor (Stich, Cordonnier, Jaggi, "Sparsified SGD with Memory", NeurIPS 2018;
// Aji and Heafield, "Sparse Communication for Distributed Gradient Descent", EMNLP 2017): the k values of largest
// magnitude are kept, every other one becomes 0. Per tensor rather than over the whole model, so that a small bias
// is never starved by a large kernel's values.

/**
 * How many of a tensor's values a top-k fraction keeps: ceil(fraction · n), at least 1 of a non-empty tensor.
 * @param valueCount n, the tensor's values
 * @param fraction in (0, 1]
 * @throws RangeError for a fraction outside (0, 1] (a programmer error: plans are checked when decoded)
 */
export function topkCount(valueCount: number, fraction: number): number {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`top-k fraction must be in (0, 1], got ${fraction}`);
  if (valueCount === 0) return 0;
  // The tiny slack keeps 0.01 · 300 = 3.0000000000000004 from becoming 4.
  return Math.min(valueCount, Math.max(1, Math.ceil(fraction * valueCount - 1e-9)));
}

/**
 * `values` with all but its k largest-magnitude entries set to 0; among equal magnitudes the lower positions are
 * kept, so the result is deterministic. O(n log n) (one typed-array sort of the magnitudes).
 * @param values a tensor's values, row-major; not changed
 * @param k in [0, n]
 * @returns a new array of the same length: exactly the k chosen entries as they were, the rest 0
 */
export function sparsifyTopK(values: Float32Array, k: number): Float32Array {
  const n = values.length;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`top-k needs an integer k in [0, ${n}], got ${k}`);
  const kept = new Float32Array(n);
  if (k === 0) return kept;
  const magnitudes = new Float32Array(n);
  for (let i = 0; i < n; i++) magnitudes[i] = Math.abs(values[i]);
  magnitudes.sort();
  const threshold = magnitudes[n - k];
  // Everything above the k-th largest magnitude is kept; ties at it fill the remaining slots in position order.
  let aboveThreshold = 0;
  for (let i = 0; i < n; i++) if (Math.abs(values[i]) > threshold) aboveThreshold++;
  let tiesLeft = k - aboveThreshold;
  for (let i = 0; i < n; i++) {
    const magnitude = Math.abs(values[i]);
    if (magnitude > threshold || (magnitude === threshold && tiesLeft-- > 0)) kept[i] = values[i];
  }
  return kept;
}
