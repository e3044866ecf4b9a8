import { chiSquareUniformity, upperRegularizedGamma } from './chi-square';

describe('chi-square survival function', () => {
  // Reference: scipy.stats.chi2.sf(x, df) (SciPy 1.17.1).
  it.each([
    [255, 255, 0.48822252177040637],
    [330.5, 255, 0.0010024831689553677],
    [400, 255, 1.6600025244123397e-8],
    [10, 15, 0.8197399195036016],
    [30, 15, 0.011921495938159686],
  ])('chi2.sf(%d, df %d) = %d', (x, df, reference) => {
    expect(upperRegularizedGamma(df / 2, x / 2)).toBeCloseTo(reference, 12);
    expect(Math.abs(upperRegularizedGamma(df / 2, x / 2) / reference - 1)).toBeLessThan(1e-9);
  });

  it('gives statistic 0 and p-value 1 for perfectly even counts', () => {
    expect(chiSquareUniformity([5, 5, 5, 5])).toEqual({ statistic: 0, degreesOfFreedom: 3, pValue: 1 });
  });
});
