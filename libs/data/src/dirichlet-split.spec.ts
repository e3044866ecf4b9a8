import fc from 'fast-check';
import { seededRandom } from '@fedtl/util';
import { dirichletLabelSplit, dirichletVariate, gammaVariate } from './dirichlet-split';

/** 3,200 positive and 3,200 negative items, like the four domains' 6,400 training reviews. */
const items = Array.from({ length: 6400 }, (_, i) => ({ id: i, label: i % 2 === 0 ? 'positive' : 'negative' }));
const labelOf = (item: { label: string }) => item.label;

const positiveShare = (part: ReadonlyArray<{ label: string }>) => part.filter((item) => item.label === 'positive').length / part.length;

describe('gammaVariate and dirichletVariate', () => {
  it('draw Gamma variates with mean and variance equal to the shape, below and above 1', () => {
    for (const shape of [0.5, 3]) {
      const random = seededRandom(11);
      const draws = Array.from({ length: 20000 }, () => gammaVariate(shape, random));
      const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
      const variance = draws.reduce((s, x) => s + (x - mean) ** 2, 0) / draws.length;
      expect(Math.abs(mean - shape)).toBeLessThan(0.05 * shape);
      expect(Math.abs(variance - shape)).toBeLessThan(0.1 * shape);
      expect(draws.every((x) => x > 0)).toBe(true);
    }
  });

  it('draws proportions that sum to 1', () => {
    const p = dirichletVariate(100, 0.5, seededRandom(1));
    expect(p).toHaveLength(100);
    expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
  });
});

describe('dirichletLabelSplit', () => {
  it('deals every item to exactly one of 100 clients, none empty, at alpha 0.5', () => {
    const parts = dirichletLabelSplit(items, labelOf, { clients: 100, alpha: 0.5, seed: 3 });
    expect(parts).toHaveLength(100);
    expect(parts.every((part) => part.length >= 1)).toBe(true);
    const ids = parts.flat().map((item) => item.id).sort((a, b) => a - b);
    expect(ids).toEqual(items.map((item) => item.id));
  });

  it('is the same split for the same seed and another for another seed', () => {
    const sizes = (seed: number) => dirichletLabelSplit(items, labelOf, { clients: 100, alpha: 0.5, seed }).map((part) => part.map((item) => item.id));
    expect(sizes(3)).toEqual(sizes(3));
    expect(sizes(4)).not.toEqual(sizes(3));
  });

  it('skews the label mix for a small alpha and keeps the pool’s mix for a large one', () => {
    const skew = (alpha: number, clients = 100) => {
      const parts = dirichletLabelSplit(items, labelOf, { clients, alpha, seed: 5 });
      // The share of clients whose majority label holds 90 % or more of their examples.
      return parts.filter((part) => Math.max(positiveShare(part), 1 - positiveShare(part)) >= 0.9).length / parts.length;
    };
    // (At 0.1, 100 clients leave some client empty in almost every draw: 20 here.)
    expect(skew(0.1, 20)).toBeGreaterThan(0.6);
    expect(skew(1000)).toBe(0);
    // At alpha 0.5 many clients are lopsided but not all.
    const atHalf = skew(0.5);
    expect(atHalf).toBeGreaterThan(0.2);
    expect(atHalf).toBeLessThan(0.8);
  });

  it('gives every client at least minExamples and refuses what cannot be satisfied', () => {
    const parts = dirichletLabelSplit(items, labelOf, { clients: 20, alpha: 5, seed: 1, minExamples: 50 });
    expect(Math.min(...parts.map((part) => part.length))).toBeGreaterThanOrEqual(50);
    expect(() => dirichletLabelSplit(items.slice(0, 10), labelOf, { clients: 11, alpha: 0.5, seed: 1 })).toThrow(/expected at least 11 items/);
    expect(() => dirichletLabelSplit(items, labelOf, { clients: 100, alpha: 0.01, seed: 1, minExamples: 60, maxDraws: 3 })).toThrow(/no draw in 3/);
    expect(() => dirichletLabelSplit(items, labelOf, { clients: 10, alpha: 0, seed: 1 })).toThrow(/alpha > 0/);
  });
});

describe('dirichletLabelSplit properties (fast-check)', () => {
  const pools = fc.record({
    labels: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 20, maxLength: 300 }),
    clients: fc.integer({ min: 1, max: 20 }),
    alpha: fc.double({ min: 0.05, max: 50, noNaN: true }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  });
  const split = (labels: number[], clients: number, alpha: number, seed: number) =>
    dirichletLabelSplit(
      labels.map((label, id) => ({ id, label: `l${label}` })),
      labelOf,
      { clients, alpha, seed, minExamples: 0 },
    );

  it('assigns every example to exactly one client, deterministically for a seed', () => {
    fc.assert(
      fc.property(pools, ({ labels, clients, alpha, seed }) => {
        const parts = split(labels, clients, alpha, seed);
        expect(parts).toHaveLength(clients);
        expect(parts.flat().map((item) => item.id).sort((a, b) => a - b)).toEqual(labels.map((_, id) => id));
        expect(split(labels, clients, alpha, seed)).toEqual(parts);
      }),
      { numRuns: 60 },
    );
  });

  it("keeps each label's examples together: per-client label counts add up to the pool's", () => {
    fc.assert(
      fc.property(pools, ({ labels, clients, alpha, seed }) => {
        const parts = split(labels, clients, alpha, seed);
        for (const label of new Set(labels)) {
          const inPool = labels.filter((l) => l === label).length;
          const dealt = parts.reduce((sum, part) => sum + part.filter((item) => item.label === `l${label}`).length, 0);
          expect(dealt).toBe(inPool);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('gives every client the pool\'s label proportions on average at a large alpha', () => {
    // Dir(α·1) has mean 1/N per client whatever α; at α = 1000 each client's share of each label is within a
    // few percent of 1/N, so every client sees the pool's mix.
    const labels = Array.from({ length: 4000 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const parts = split(labels, 10, 1000, 9);
    for (const part of parts) {
      const share = part.filter((item) => item.label === 'l1').length / part.length;
      expect(Math.abs(share - 0.25)).toBeLessThan(0.05);
    }
  });
});
