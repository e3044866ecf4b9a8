import fc from 'fast-check';
import { sparsifyTopK, topkCount } from './top-k';

/** An independent reference: positions ordered by magnitude (largest first, then by position), the first k kept. */
function referenceTopK(values: Float32Array, k: number): Float32Array {
  const order = [...values.keys()].sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b);
  const kept = new Float32Array(values.length);
  for (const i of order.slice(0, k)) kept[i] = values[i];
  return kept;
}

describe('top-k sparsification', () => {
  it('keeps exactly the k largest magnitudes as they were and zeroes the rest, as the reference does (fast-check)', () => {
    const input = fc
      .float32Array({ minLength: 1, maxLength: 200, noDefaultInfinity: true, noNaN: true })
      .chain((values) => fc.tuple(fc.constant(values), fc.integer({ min: 0, max: values.length })));
    fc.assert(
      fc.property(input, ([values, k]) => {
        const kept = sparsifyTopK(values, k);
        expect(Array.from(kept)).toEqual(Array.from(referenceTopK(values, k)));
        expect(kept.filter((v) => v !== 0).length).toBe(Math.min(k, values.filter((v) => v !== 0).length));
      }),
    );
  });

  it('breaks ties by position, so the selection is deterministic', () => {
    expect(Array.from(sparsifyTopK(Float32Array.of(1, -2, 2, -2, 1), 2))).toEqual([0, -2, 2, 0, 0]);
    expect(Array.from(sparsifyTopK(Float32Array.of(3, 3, 3), 0))).toEqual([0, 0, 0]);
  });

  it('counts ceil(fraction · n), at least 1 of a non-empty tensor, and refuses other fractions', () => {
    expect(topkCount(66_560, 0.01)).toBe(666);
    expect(topkCount(300, 0.01)).toBe(3);
    expect(topkCount(2, 0.01)).toBe(1);
    expect(topkCount(0, 0.5)).toBe(0);
    expect(topkCount(7, 1)).toBe(7);
    for (const fraction of [0, -0.1, 1.5, NaN]) expect(() => topkCount(10, fraction)).toThrow(RangeError);
    expect(() => sparsifyTopK(new Float32Array(3), 4)).toThrow(/integer k in \[0, 3\], got 4/);
  });
});
