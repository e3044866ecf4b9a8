import { formatPercentSpread, pairedDifference, spreadOf } from './seed-spread';

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

describe('pairedDifference', () => {
  it('is the spread of the per-seed differences, not of either side', () => {
    // Both sides vary by 15 points across seeds, their difference only by 5: differences 0.05, 0.1, 0.05.
    const difference = pairedDifference([0.5, 0.65, 0.6], [0.45, 0.55, 0.55]);
    expect(difference.mean).toBeCloseTo(0.2 / 3, 12);
    // Deviations −1/60, 2/60, −1/60 → sum of squares 6/3600, over n − 1 = 2.
    expect(difference.std).toBeCloseTo(Math.sqrt(6 / 3600 / 2), 12);
    expect(difference.n).toBe(3);
  });

  it('refuses lists of different lengths', () => {
    expect(() => pairedDifference([1, 2], [1])).toThrow('pairedDifference: expected one value per seed on both sides, got 2 and 1');
  });
});
