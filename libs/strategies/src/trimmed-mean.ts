// TrimmedMean — coordinate-wise trimmed mean aggregation.
// D. Yin, Y. Chen, K. Ramchandran, P. Bartlett, "Byzantine-Robust Distributed Learning: Towards Optimal
// Statistical Rates", ICML 2018. https://arxiv.org/abs/1803.01498 (the "trimmed mean" rule, Option II)
//
// For each coordinate, the round's n values are sorted, the k = ⌊β·n⌋ largest and k smallest are dropped and the
// remaining n − 2k are averaged. β ∈ (0, 1/2) is the trim fraction; the paper needs β at least the fraction of
// Byzantine updates. Unweighted, as in the paper. A round where ⌊β·n⌋ = 0 would trim nothing (a plain mean) and
// is refused: the fewest updates a round needs is the smallest n with ⌊β·n⌋ ≥ 1 (5 for β = 0.2).
// Memory: the round's n accepted updates, O(n × P) float32 for P parameters, plus O(n) scratch (see robust.ts).
import type { FedAvgOptions } from './fedavg';
import { RobustStrategy, type RobustCombination } from './robust';

export interface TrimmedMeanOptions extends FedAvgOptions {
  /** β, the fraction trimmed from each end of every coordinate, in (0, 0.5). Default 0.2. */
  trimFraction?: number;
}

export const TRIMMED_MEAN_DEFAULTS = { trimFraction: 0.2 } as const;

/** k = ⌊β·n⌋, the values trimmed from each end with n updates. */
export function trimmedCount(trimFraction: number, n: number): number {
  return Math.floor(trimFraction * n);
}

/** The smallest n for which ⌊β·n⌋ ≥ 1 (computed, not 1/β, so it agrees with `trimmedCount` in floating point). */
export function fewestForTrimFraction(trimFraction: number): number {
  let n = 1;
  while (trimmedCount(trimFraction, n) < 1) n++;
  return n;
}

/** Per coordinate, the mean of `deltas` without the `trim` largest and `trim` smallest values (n > 2·trim). */
export function coordinateTrimmedMean(deltas: readonly Float32Array[], trim: number): Float32Array {
  const n = deltas.length;
  if (!(Number.isInteger(trim) && trim >= 0 && n > 2 * trim)) throw new RangeError(`coordinateTrimmedMean: cannot trim ${trim} from each end of ${n} values`);
  const out = new Float32Array(deltas[0].length);
  const column = new Float64Array(n);
  for (let j = 0; j < out.length; j++) {
    for (let k = 0; k < n; k++) column[k] = deltas[k][j];
    column.sort();
    let sum = 0;
    for (let k = trim; k < n - trim; k++) sum += column[k];
    out[j] = sum / (n - 2 * trim);
  }
  return out;
}

export class TrimmedMean extends RobustStrategy {
  override readonly name: string = 'TrimmedMean';
  readonly trimFraction: number;

  constructor(options: TrimmedMeanOptions = {}) {
    const trimFraction = options.trimFraction ?? TRIMMED_MEAN_DEFAULTS.trimFraction;
    if (!(Number.isFinite(trimFraction) && trimFraction > 0 && trimFraction < 0.5)) {
      throw new RangeError(`TrimmedMean: trimFraction must be in (0, 0.5), got ${trimFraction}`);
    }
    super(RobustStrategy.withFewest(options, fewestForTrimFraction(trimFraction)));
    this.trimFraction = trimFraction;
    this.checkMinFitClients(options.minFitClients);
  }

  get fewestUpdates(): number {
    return fewestForTrimFraction(this.trimFraction);
  }

  protected get fewestReason(): string {
    return `⌊β·n⌋ ≥ 1 with trim fraction β = ${this.trimFraction}`;
  }

  protected combine(deltas: readonly Float32Array[]): RobustCombination {
    const trim = trimmedCount(this.trimFraction, deltas.length);
    return { delta: coordinateTrimmedMean(deltas, trim), metrics: { 'robust/trimmedPerSide': trim } };
  }
}
