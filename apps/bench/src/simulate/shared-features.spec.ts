import { rowsOf, sharedFeatureTable } from './shared-features';

describe('sharedFeatureTable', () => {
  const dim = 2;
  const features = Float32Array.from([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  const featuresOf = (row: number) => features.subarray(row * dim, (row + 1) * dim);

  it('lays the rows out client by client in shared memory, each client a view of its range', () => {
    const { table, ranges } = sharedFeatureTable(featuresOf, [0, 1, 0, 1, 0], dim, [[3, 1], [4], [0, 2]]);
    expect(table.features.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(table.features)).toEqual([3, 3, 1, 1, 4, 4, 0, 0, 2, 2]);
    expect(Array.from(table.labels)).toEqual([1, 1, 0, 0, 0]);
    expect(ranges).toEqual([{ offset: 0, count: 2 }, { offset: 2, count: 1 }, { offset: 3, count: 2 }]);
    const third = rowsOf(table, ranges[2]);
    expect(third.n).toBe(2);
    expect(Array.from(third.features)).toEqual([0, 0, 2, 2]);
    // A view, not a copy: the same bytes as the table.
    expect(third.features.buffer).toBe(table.features.buffer);
  });

  it('refuses a row twice, a row out of range, and features of another width', () => {
    expect(() => sharedFeatureTable(featuresOf, [0, 1, 0, 1, 0], dim, [[0], [0]])).toThrow('row 0 is in two parts');
    expect(() => sharedFeatureTable(featuresOf, [0, 1, 0, 1, 0], dim, [[5]])).toThrow('expected row indices in [0, 5), got 5');
    expect(() => sharedFeatureTable(() => new Float32Array(3), [0], dim, [[0]])).toThrow('expected 2 features for row 0, got 3');
  });
});
