import { formatPercentSpread, spreadOf } from './seed-spread';

describe('spreadOf', () => {
  it('gives the mean and the sample standard deviation', () => {
    // Mean 5; squared deviations 9, 1, 1, 9 → sum 20, over n − 1 = 3.
    const spread = spreadOf([2, 4, 6, 8]);
    expect(spread.mean).toBe(5);
    expect(spread.std).toBeCloseTo(Math.sqrt(20 / 3), 12);
    expect(spread.n).toBe(4);
    expect(spreadOf([0.7])).toEqual({ mean: 0.7, std: 0, n: 1 });
    expect(formatPercentSpread(spreadOf([0.7, 0.72]))).toBe('71.0 ± 1.4');
  });

  it('refuses an empty list and values that are not finite', () => {
    expect(() => spreadOf([])).toThrow('expected at least one value');
    expect(() => spreadOf([1, Number.NaN])).toThrow('expected finite values, got NaN');
  });
});
