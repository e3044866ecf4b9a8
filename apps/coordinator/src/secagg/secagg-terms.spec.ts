import { defaultThreshold, secAggParamsFor } from './secagg-terms';

describe('secure-aggregation terms of a round attempt', () => {
  const base = { attempt: 2, declaredExamples: [40, 100, 60, 300], threshold: 0, maxClientShare: 0.5, maxUpdateNorm: 100 };

  it('takes a majority threshold, the share cap as weight cap, the largest capped count as W, and bits that fit the ring', () => {
    const params = secAggParamsFor(base);
    expect(params).toMatchObject({ attempt: 2, threshold: 3, numSelected: 4, clip: 100, ringBits: 32, metricSlots: ['loss', 'accuracy'] });
    expect(params.weightBound).toBe(params.weightCap);
    expect(params.weightCap).toBeLessThan(300);
    expect(4 * 100 * 2 ** params.fractionalBits).toBeLessThan(2 ** 31);
    expect([2, 3, 4, 5, 64].map(defaultThreshold)).toEqual([2, 2, 3, 3, 33]);
  });

  it('raises t to what a selected client\'s policy asks when the round can meet it, and never beyond n', () => {
    expect(secAggParamsFor({ ...base, policyThreshold: 4 }).threshold).toBe(4);
    expect(secAggParamsFor({ ...base, policyThreshold: 2 }).threshold).toBe(3);
    expect(secAggParamsFor({ ...base, policyThreshold: 9 }).threshold).toBe(3);
  });

  it('clips to at least 1 so the weight entry fits, and refuses a round of fewer than t clients', () => {
    expect(secAggParamsFor({ ...base, maxUpdateNorm: 0.25 }).clip).toBe(1);
    expect(() => secAggParamsFor({ ...base, declaredExamples: [10] })).toThrow('expected at least 2 selected clients for secure aggregation');
    expect(() => secAggParamsFor({ ...base, threshold: 5 })).toThrow('expected at least 5 selected clients for secure aggregation (threshold t = 5), got 4');
  });
});
