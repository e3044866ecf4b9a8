import fc from 'fast-check';
import { partitionRows } from './client-partition';
import { parsePartition } from './partition-spec';

describe('parsePartition', () => {
  it('reads dirichlet:ALPHA and field:NAME and refuses anything else with the flag named', () => {
    expect(parsePartition('dirichlet:0.5')).toEqual({ kind: 'dirichlet', alpha: 0.5 });
    expect(parsePartition('field:domain')).toEqual({ kind: 'field', field: 'domain' });
    expect(parsePartition('Dirichlet:0.5')).toEqual({ kind: 'dirichlet', alpha: 0.5 });
    expect(parsePartition(' FIELD:Domain ')).toEqual({ kind: 'field', field: 'Domain' });
    expect(parsePartition('field:a:b')).toEqual({ kind: 'field', field: 'a:b' });
    for (const bad of ['dirichlet:0', 'dirichlet:', 'dirichlet:x', 'field:', 'iid']) expect(() => parsePartition(bad)).toThrow(/--partition: expected dirichlet:ALPHA/);
  });
});

describe('partitionRows', () => {
  const rowsAndClients = fc
    .record({
      labels: fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 8, maxLength: 200 }),
      groups: fc.array(fc.constantFrom('books', 'dvd'), { minLength: 200, maxLength: 200 }),
      share: fc.double({ min: 0, max: 1, noNaN: true }),
      seed: fc.integer({ min: 0, max: 1000 }),
    })
    .map(({ labels, groups, share, seed }) => ({ labels, groups: groups.slice(0, labels.length), clients: 2 + Math.floor(share * 2), seed }));

  it('puts every row in exactly one non-empty client, the same for the same seed (both partitions)', () => {
    fc.assert(
      fc.property(rowsAndClients, ({ labels, groups, clients, seed }) => {
        for (const spec of [parsePartition('dirichlet:0.3'), parsePartition('field:domain')]) {
          const hasBoth = new Set(groups).size === 2;
          if (spec.kind === 'field' && (!hasBoth || groups.filter((g) => g === 'books').length < 2 || groups.filter((g) => g === 'dvd').length < 2)) continue;
          const parts = partitionRows(labels, groups, spec, clients, seed);
          expect(parts).toHaveLength(clients);
          expect(parts.every((part) => part.length > 0)).toBe(true);
          expect(parts.flat().sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
          expect(partitionRows(labels, groups, spec, clients, seed)).toEqual(parts);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('gives each client of a field partition rows of one value only, and refuses too few clients or rows', () => {
    const groups = ['books', 'dvd', 'books', 'dvd', 'books', 'dvd'];
    const parts = partitionRows(['a', 'b', 'a', 'b', 'a', 'b'], groups, { kind: 'field', field: 'domain' }, 4, 1);
    for (const part of parts) expect(new Set(part.map((row) => groups[row])).size).toBe(1);
    expect(() => partitionRows(['a', 'b'], ['x', 'y'], { kind: 'field', field: 'domain' }, 1, 1)).toThrow(/at least one client per value of "domain" \(2: x, y\)/);
    expect(() => partitionRows(['a', 'b', 'c'], ['x', 'y', 'y'], { kind: 'field', field: 'domain' }, 3, 1)).toThrow('"domain" = "x" has 1 rows for its 2 clients');
    expect(() => partitionRows(['a'], undefined, { kind: 'dirichlet', alpha: 1 }, 2, 1)).toThrow(/at most the 1 training rows/);
  });
});
