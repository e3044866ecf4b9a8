import fc from 'fast-check';
import { dirichletClientSplit } from './dirichlet-client-split';

const labelOf = (item: { label: string }) => item.label;
const itemsOf = (labels: readonly number[]) => labels.map((label, id) => ({ id, label: `l${label}` }));
/** The share of a part taken by its most frequent label. */
const majorityShare = (part: ReadonlyArray<{ label: string }>) => {
  const counts = new Map<string, number>();
  for (const item of part) counts.set(item.label, (counts.get(item.label) ?? 0) + 1);
  return Math.max(...counts.values()) / part.length;
};

describe('dirichletClientSplit (Hsu et al. 2019, per-client form)', () => {
  const pools = fc
    .record({
      labels: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 300 }),
      clientShare: fc.double({ min: 0, max: 1, noNaN: true }),
      alpha: fc.double({ min: 0.01, max: 100, noNaN: true }),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    })
    .map(({ labels, clientShare, alpha, seed }) => ({ labels, clients: 1 + Math.floor(clientShare * (labels.length - 1)), alpha, seed }));

  it('deals every example to exactly one client, every client ⌊n/N⌋ or ⌈n/N⌉, the same for the same seed', () => {
    fc.assert(
      fc.property(pools, ({ labels, clients, alpha, seed }) => {
        const parts = dirichletClientSplit(itemsOf(labels), labelOf, { clients, alpha, seed });
        expect(parts).toHaveLength(clients);
        expect(parts.flat().map((item) => item.id).sort((a, b) => a - b)).toEqual(labels.map((_, id) => id));
        const sizes = parts.map((part) => part.length);
        expect(Math.min(...sizes)).toBeGreaterThanOrEqual(Math.floor(labels.length / clients));
        expect(Math.max(...sizes)).toBeLessThanOrEqual(Math.ceil(labels.length / clients));
        expect(dirichletClientSplit(itemsOf(labels), labelOf, { clients, alpha, seed })).toEqual(parts);
      }),
      { numRuns: 80 },
    );
  });

  it('splits 6,400 reviews among 1,000 clients at α = 0.5 with none empty (the per-label form cannot)', () => {
    const parts = dirichletClientSplit(itemsOf(Array.from({ length: 6400 }, (_, i) => i % 2)), labelOf, { clients: 1000, alpha: 0.5, seed: 7 });
    expect(parts.every((part) => part.length === 6 || part.length === 7)).toBe(true);
  });

  it('skews each client towards one label at a small α and keeps the pool mix at a large one', () => {
    const items = itemsOf(Array.from({ length: 4000 }, (_, i) => i % 2));
    const lopsided = (alpha: number) => {
      const parts = dirichletClientSplit(items, labelOf, { clients: 40, alpha, seed: 3 });
      return parts.filter((part) => majorityShare(part) >= 0.9).length / parts.length;
    };
    // The last clients take what the others left, so not every client is lopsided even at a tiny α.
    expect(lopsided(0.05)).toBeGreaterThan(0.6);
    expect(lopsided(1000)).toBe(0);
  });

  it('refuses more clients than items and a bad α', () => {
    expect(() => dirichletClientSplit(itemsOf([0, 1]), labelOf, { clients: 3, alpha: 1, seed: 1 })).toThrow(/clients to be an integer in \[1, 2\]/);
    expect(() => dirichletClientSplit(itemsOf([0, 1]), labelOf, { clients: 1, alpha: 0, seed: 1 })).toThrow(/alpha > 0/);
  });
});
