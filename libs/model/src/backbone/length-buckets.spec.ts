import { inputOrderBatches, lengthBuckets } from './length-buckets';

describe('lengthBuckets', () => {
  it('puts every index in exactly one batch, longest first, ties in input order', () => {
    const batches = lengthBuckets([3, 9, 1, 9, 0, 5, 3], 3);
    expect(batches).toEqual([[1, 3, 5], [0, 6, 2], [4]]);
    expect(batches.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('handles no items and refuses a batch size below 1', () => {
    expect(lengthBuckets([], 4)).toEqual([]);
    expect(() => lengthBuckets([1], 0)).toThrow(RangeError);
    expect(() => inputOrderBatches(1, 1.5)).toThrow('batchSize must be an integer >= 1; got 1.5');
  });
});

describe('inputOrderBatches', () => {
  it('cuts 0 … count-1 in order', () => {
    expect(inputOrderBatches(5, 2)).toEqual([[0, 1], [2, 3], [4]]);
    expect(inputOrderBatches(0, 2)).toEqual([]);
  });
});
