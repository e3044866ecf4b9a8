// Batches of similar length. A sequence model pads every row of a batch to the batch's longest row (USE lite runs
// its attention and its projections over the padded positions), so batches of texts in input order spend much of
// their arithmetic on padding; ordering by length first leaves almost none. Only which texts share a batch
// changes, never what a text's features are: the callers put each result back at its input position.

/**
 * Cuts `lengths.length` items into batches of at most `batchSize`, each holding items of similar length.
 *
 * @param lengths one non-negative length per item (token counts, or characters as a proxy where no tokenizer is
 *   at hand); only their order matters.
 * @param batchSize items per batch, an integer >= 1 (the last batch may hold fewer).
 * @returns batches of indices into `lengths`, every index exactly once: longest items first (so that workers
 *   taking batches in this order finish close together), ties in input order.
 * @throws RangeError when `batchSize` is not an integer >= 1.
 */
export function lengthBuckets(lengths: readonly number[], batchSize: number): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be an integer >= 1; got ${batchSize}`);
  const order = lengths.map((_, index) => index).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += batchSize) batches.push(order.slice(start, start + batchSize));
  return batches;
}

/**
 * Batches of at most `batchSize` consecutive indices `0 … count-1`, in input order: batching without regard to
 * length, the baseline that `lengthBuckets` improves on.
 * @throws RangeError when `batchSize` is not an integer >= 1.
 */
export function inputOrderBatches(count: number, batchSize: number): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be an integer >= 1; got ${batchSize}`);
  const batches: number[][] = [];
  for (let start = 0; start < count; start += batchSize) batches.push(Array.from({ length: Math.min(batchSize, count - start) }, (_, k) => start + k));
  return batches;
}
