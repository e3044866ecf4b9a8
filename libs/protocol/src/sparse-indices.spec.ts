import fc from 'fast-check';
import { FedtlError } from '@fedtl/util';
import { decodeSparseIndices, encodeSparseIndices } from './sparse-indices';

describe('sparse indices (varint gaps)', () => {
  it('round-trip any strictly increasing uint32 positions (fast-check)', () => {
    const positions = fc.uniqueArray(fc.nat({ max: 2 ** 32 - 2 }), { maxLength: 200 }).map((values) => values.sort((a, b) => a - b));
    fc.assert(
      fc.property(positions, (sorted) => {
        const bytes = encodeSparseIndices(sorted);
        const dense = (sorted[sorted.length - 1] ?? 0) + 1;
        expect(Array.from(decodeSparseIndices(bytes, sorted.length, dense, 't'))).toEqual(sorted);
      }),
    );
  });

  it('either decode any bytes to strictly increasing positions below the dense length, or refuse them with FEDTL_ERR_BAD_TENSOR_DATA (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 70 }), fc.integer({ min: 1, max: 5000 }), (bytes, count, dense) => {
        let positions: Uint32Array;
        try {
          positions = decodeSparseIndices(bytes, count, dense, 't');
        } catch (err) {
          expect(err).toBeInstanceOf(FedtlError);
          expect((err as FedtlError).code).toBe('FEDTL_ERR_BAD_TENSOR_DATA');
          return;
        }
        expect(positions.length).toBe(count);
        positions.forEach((position, i) => {
          expect(position).toBeLessThan(dense);
          if (i > 0) expect(position).toBeGreaterThan(positions[i - 1]);
        });
      }),
    );
  });

  it('writes one byte a gap below 128, and refuses what is not strictly increasing', () => {
    expect(Array.from(encodeSparseIndices([3, 100, 227, 228]))).toEqual([3, 97, 127, 1]);
    expect(Array.from(encodeSparseIndices([0, 128]))).toEqual([0, 0x80, 0x01]);
    expect(() => encodeSparseIndices([4, 4])).toThrow('sparse positions must be strictly increasing uint32s: got 4 after 4 at entry 1');
    expect(() => encodeSparseIndices([2 ** 32])).toThrow(RangeError);
  });
});
