import { labelsOf } from './label-set';
import { stratifiedSample, stratifiedSplit } from './split';

interface Item {
  id: string;
  label: string;
}

function dataset(counts: Record<string, number>): Item[] {
  return Object.entries(counts).flatMap(([label, count]) =>
    Array.from({ length: count }, (_, index) => ({ id: `${label}-${index}`, label })),
  );
}

const countsOf = (items: readonly Item[]) =>
  Object.fromEntries(labelsOf(items).map((label) => [label, items.filter((item) => item.label === label).length]));
const ids = (items: readonly Item[]) => items.map((item) => item.id);

describe('stratifiedSplit', () => {
  const items = dataset({ positive: 200, negative: 100, neutral: 2, rare: 1 });

  it('keeps every label in proportion, at least one on each side when it has two', () => {
    const { train, test } = stratifiedSplit(items, { testFraction: 0.2, seed: 1 });
    expect(countsOf(test)).toEqual({ negative: 20, neutral: 1, positive: 40 });
    expect(countsOf(train)).toEqual({ negative: 80, neutral: 1, positive: 160, rare: 1 });
  });

  it('is disjoint and complete', () => {
    const { train, test } = stratifiedSplit(items, { testFraction: 0.25, seed: 3 });
    const trainIds = new Set(ids(train));
    expect(ids(test).filter((id) => trainIds.has(id))).toEqual([]);
    expect([...ids(train), ...ids(test)].sort()).toEqual(ids(items).sort());
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const first = stratifiedSplit(items, { testFraction: 0.25, seed: 11 });
    const again = stratifiedSplit(items, { testFraction: 0.25, seed: 11 });
    const other = stratifiedSplit(items, { testFraction: 0.25, seed: 12 });
    expect(ids(again.test)).toEqual(ids(first.test));
    expect(ids(again.train)).toEqual(ids(first.train));
    expect(ids(other.test)).not.toEqual(ids(first.test));
  });

  it('shuffles each side rather than grouping it by label', () => {
    const { train } = stratifiedSplit(items, { testFraction: 0.2, seed: 1 });
    expect(train.slice(0, 40).some((item) => item.label === 'negative')).toBe(true);
  });

  it('refuses a fraction outside (0, 1) and a fractional seed', () => {
    expect(() => stratifiedSplit(items, { testFraction: 1, seed: 1 })).toThrow(/testFraction .* got 1/);
    expect(() => stratifiedSplit(items, { testFraction: Number.NaN, seed: 1 })).toThrow(RangeError);
    expect(() => stratifiedSplit(items, { testFraction: 0.2, seed: 0.5 })).toThrow(/seed must be an integer/);
  });
});

describe('stratifiedSample', () => {
  const items = dataset({ a: 60, b: 30, c: 9, d: 1 });

  it('draws in proportion to the labels, every label at least once', () => {
    const sample = stratifiedSample(items, 20, 5);
    expect(sample).toHaveLength(20);
    // One each first; the other 16 go by the remaining sizes 59:29:8:0.
    expect(countsOf(sample)).toEqual({ a: 11, b: 6, c: 2, d: 1 });
    expect(new Set(ids(sample)).size).toBe(20);
  });

  it('gives the largest labels the draws when there are fewer draws than labels', () => {
    expect(countsOf(stratifiedSample(items, 2, 5))).toEqual({ a: 1, b: 1 });
    expect(stratifiedSample(items, 0, 5)).toEqual([]);
  });

  it('returns everything when asked for at least the dataset size', () => {
    expect(ids(stratifiedSample(items, 100, 5)).sort()).toEqual(ids(items).sort());
    expect(stratifiedSample(items, 1000, 5)).toHaveLength(100);
  });

  it('is deterministic, and a larger draw extends a smaller one', () => {
    expect(ids(stratifiedSample(items, 30, 9))).toEqual(ids(stratifiedSample(items, 30, 9)));
    const small = new Set(ids(stratifiedSample(items, 10, 9)));
    const large = new Set(ids(stratifiedSample(items, 40, 9)));
    expect([...small].every((id) => large.has(id))).toBe(true);
  });

  it('refuses a negative or fractional count', () => {
    expect(() => stratifiedSample(items, -1, 1)).toThrow(/count must be a non-negative integer, got -1/);
    expect(() => stratifiedSample(items, 2.5, 1)).toThrow(RangeError);
  });
});
