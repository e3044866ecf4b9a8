import { deriveSeed, seededRandom, shuffled } from './random';

describe('seeded randomness', () => {
  it('repeats for a seed and differs across seeds', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const first = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(first);
    expect(Array.from({ length: 5 }, c)).not.toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('shuffles a copy into a permutation', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const out = shuffled(items, seededRandom(1));
    expect(out).not.toEqual(items);
    expect([...out].sort((x, y) => x - y)).toEqual(items);
    expect(items[0]).toBe(0);
  });

  it('derives distinct, stable seeds from parts', () => {
    expect(deriveSeed(42, 'train', 1, 'client-a')).toBe(deriveSeed(42, 'train', 1, 'client-a'));
    expect(deriveSeed(42, 'train', 1, 'client-a')).not.toBe(deriveSeed(42, 'train', 2, 'client-a'));
    expect(deriveSeed(42, 'train', 12)).not.toBe(deriveSeed(42, 'train', 1, 2));
  });
});
