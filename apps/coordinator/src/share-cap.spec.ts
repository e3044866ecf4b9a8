import fc from 'fast-check';
import { cappedWeight, weightCaps } from './share-cap';

const shares = (declared: number[], maxShare: number) => {
  const caps = weightCaps(declared, maxShare);
  const weights = declared.map((n) => cappedWeight(n, caps));
  const total = weights.reduce((a, b) => a + b, 0);
  return { caps, weights, shares: weights.map((w) => w / total) };
};

describe('per-client share cap', () => {
  it('holds a client declaring 2^32 − 1 examples to the cap against two honest clients', () => {
    const { caps, weights, shares: s } = shares([40, 4294967295, 40], 0.5);
    expect(caps.level).toBe(80);
    expect(weights).toEqual([40, 80, 40]);
    expect(Math.max(...s)).toBe(0.5);
    expect(Math.max(...shares([40, 4294967295, 40], 0.4).shares)).toBeLessThanOrEqual(0.4);
  });

  it('leaves honest counts exactly unchanged when no client is above the cap', () => {
    expect(shares([24, 40, 64], 0.5)).toMatchObject({ caps: { level: Infinity }, weights: [24, 40, 64] });
    expect(shares([30, 45, 2400], 1)).toMatchObject({ caps: { level: Infinity }, weights: [30, 45, 2400] });
  });

  it('cannot hold k clients below 1/k each: a lone client keeps its weight, two get equal shares at worst', () => {
    expect(shares([7], 0.5)).toMatchObject({ caps: { share: 1 }, weights: [7] });
    expect(shares([10, 1000], 0.25)).toMatchObject({ caps: { share: 0.5, level: 10 }, weights: [10, 10] });
  });

  it('for any cohort: no share above max(maxShare, 1/k), and the level is the largest integer that holds it', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 12 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (declared, maxShare) => {
        const { caps, shares: s } = shares(declared, maxShare);
        const bound = Math.max(maxShare, 1 / declared.length);
        expect(Math.max(...s)).toBeLessThanOrEqual(bound * (1 + 1e-12));
        if (caps.level !== Infinity) {
          const higher = declared.map((n) => Math.min(n, caps.level + 1));
          const total = higher.reduce((a, b) => a + b, 0);
          expect(Math.max(...higher) / total).toBeGreaterThan(bound * (1 - 1e-12));
        }
      }),
      { seed: 9, numRuns: 500 },
    );
  });

  it('refuses a share outside (0, 1] and an empty cohort', () => {
    expect(() => weightCaps([1], 0)).toThrow('maxShare must be in (0, 1], got 0');
    expect(() => weightCaps([], 0.5)).toThrow('expected at least one client');
  });
});
