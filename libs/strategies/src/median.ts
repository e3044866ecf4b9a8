// Median — coordinate-wise median aggregation.
// D. Yin, Y. Chen, K. Ramchandran, P. Bartlett, "Byzantine-Robust Distributed Learning: Towards Optimal
// Statistical Rates", ICML 2018. https://arxiv.org/abs/1803.01498 (the "median" rule, Option I of Algorithm 1)
//
// Each coordinate of the aggregate is the median of that coordinate over the round's n updates (for even n, the
// mean of the two middle values). Unweighted, as in the paper: every update counts once whatever its example
// count, so a client cannot buy influence by declaring more examples. While fewer than half of the updates are
// Byzantine, every coordinate stays within the range of the honest values, however large the others are.
// Memory: the round's n accepted updates, O(n × P) float32 for P parameters, plus O(n) scratch (see robust.ts).
import type { FedAvgOptions } from './fedavg';
import { RobustStrategy, type RobustCombination } from './robust';

/** Per coordinate, the median of `deltas` (n ≥ 1 arrays of one length); for even n the mean of the middle two. */
export function coordinateMedian(deltas: readonly Float32Array[]): Float32Array {
  const n = deltas.length;
  if (n === 0) throw new RangeError('coordinateMedian: no deltas');
  const out = new Float32Array(deltas[0].length);
  const column = new Float64Array(n);
  for (let j = 0; j < out.length; j++) {
    for (let k = 0; k < n; k++) column[k] = deltas[k][j];
    column.sort();
    out[j] = n % 2 === 1 ? column[(n - 1) / 2] : (column[n / 2 - 1] + column[n / 2]) / 2;
  }
  return out;
}

export class Median extends RobustStrategy {
  override readonly name: string = 'Median';

  constructor(options: FedAvgOptions = {}) {
    super(options);
  }

  get fewestUpdates(): number {
    return 1;
  }

  protected get fewestReason(): string {
    return 'at least one update';
  }

  protected combine(deltas: readonly Float32Array[]): RobustCombination {
    return { delta: coordinateMedian(deltas) };
  }
}
