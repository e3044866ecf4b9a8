// Every figure of an experiment repeated over seeds is reported as the mean over seeds with its spread.

/** The mean and the sample standard deviation (n − 1 in the denominator; 0 for one value) of `values`. */
export interface Spread {
  mean: number;
  std: number;
  n: number;
}

/** @throws RangeError for an empty list or a value that is not finite. */
export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) throw new RangeError('spreadOf: expected at least one value, got none');
  const bad = values.find((v) => !Number.isFinite(v));
  if (bad !== undefined) throw new RangeError(`spreadOf: expected finite values, got ${bad}`);
  const n = values.length;
  const mean = values.reduce((sum, v) => sum + v, 0) / n;
  const variance = n > 1 ? values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

/**
 * The spread over seeds of `a[i] − b[i]`, two measurements of seed i (a paired difference: its std is that of the
 * per-seed differences, not a combination of the two sides' stds).
 * @throws RangeError when the two lists differ in length, or as spreadOf does.
 */
export function pairedDifference(a: readonly number[], b: readonly number[]): Spread {
  if (a.length !== b.length) throw new RangeError(`pairedDifference: expected one value per seed on both sides, got ${a.length} and ${b.length}`);
  return spreadOf(a.map((value, i) => value - b[i]));
}

/** A fraction as "72.4 ± 1.3" percentage points (the spread's sample standard deviation). */
export function formatPercentSpread(spread: Spread, digits = 1): string {
  return `${(100 * spread.mean).toFixed(digits)} ± ${(100 * spread.std).toFixed(digits)}`;
}
