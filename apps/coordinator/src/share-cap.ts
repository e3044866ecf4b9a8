// Caps any one client's share of a round's aggregation weight. FedAvg weighs a client by the examples it claims,
// and a claim cannot be verified; a client declaring 2^32 − 1 examples would otherwise own the average.
//
// The cap is set when the round starts, from the example counts its selected clients declared at Join, by
// water-filling: every count above a level L is lowered to L, with L the largest integer for which
// L ≤ maxShare · Σᵢ min(nᵢ, L). Counts at or below L are untouched, so when no client is above maxShare of the
// cohort, FedAvg is exactly unchanged. Aggregation streams (one update at a time, O(model) memory), so the cap
// is fixed up front and cannot be re-spread when selected clients drop out of the round.

export interface WeightCaps {
  /** The water level L: no selected client's weight exceeds it; Infinity when no cap binds. */
  level: number;
  /** The share of the cohort each client is held to: maxShare, or 1/k when k clients cannot share less. */
  share: number;
}

/**
 * The water level for `declared` (each selected client's declared example count, integers ≥ 1) and `maxShare`
 * in (0, 1]. A cohort of k clients cannot hold every share below 1/k, so the share used is max(maxShare, 1/k):
 * equal weights at worst. Throws RangeError on an empty cohort or a maxShare outside (0, 1].
 */
export function weightCaps(declared: readonly number[], maxShare: number): WeightCaps {
  if (!(maxShare > 0 && maxShare <= 1)) throw new RangeError(`weightCaps: maxShare must be in (0, 1], got ${maxShare}`);
  if (declared.length === 0) throw new RangeError('weightCaps: expected at least one client');
  const counts = declared.slice().sort((a, b) => a - b);
  const k = counts.length;
  const share = Math.max(maxShare, 1 / k);
  const total = counts.reduce((sum, n) => sum + n, 0);
  if (counts[k - 1] <= share * total) return { level: Infinity, share };
  // With the m smallest counts below L and the other k − m at L: L ≤ share · (prefix_m + (k − m) · L).
  let prefix = total;
  for (let m = k - 1; m >= 0; m--) {
    prefix -= counts[m];
    const slope = 1 - share * (k - m);
    const ceiling = counts[m];
    const floor = m > 0 ? counts[m - 1] : 0;
    const level = slope <= 0 ? ceiling : Math.min(ceiling, (share * prefix) / slope);
    if (level >= floor) return { level: Math.max(1, Math.floor(level)), share };
  }
  return { level: counts[0], share };
}

/** The weight a client's update carries: its example count, lowered to the round's water level. */
export function cappedWeight(numExamples: number, caps: WeightCaps): number {
  return Math.min(numExamples, caps.level);
}
