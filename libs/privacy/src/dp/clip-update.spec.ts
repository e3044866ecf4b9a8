import { addGaussianNoiseInPlace, clipInPlace, l2NormOf } from './clip-update';
import type { GaussianSource } from './crypto-randomness';

describe('clipInPlace', () => {
  it('scales every array together to the bound, leaving directions unchanged', () => {
    const values = [Float32Array.from([3, 0]), Float32Array.from([4])];
    expect(clipInPlace(values, 1)).toEqual({ norm: 5, factor: expect.closeTo(0.2, 6) });
    expect(l2NormOf(values)).toBeLessThanOrEqual(1);
    expect(l2NormOf(values)).toBeCloseTo(1, 5);
    expect(values[0][0] / values[1][0]).toBeCloseTo(0.75, 6);
  });

  it('leaves a delta within the bound untouched', () => {
    const values = [Float32Array.from([0.3, -0.4])];
    expect(clipInPlace(values, 0.6)).toEqual({ norm: expect.closeTo(0.5, 6), factor: 1 });
    expect(Array.from(values[0])).toEqual([Float32Array.from([0.3])[0], Float32Array.from([-0.4])[0]]);
  });

  it('never leaves a float32 norm above the bound', () => {
    for (let trial = 0; trial < 200; trial++) {
      const values = [Float32Array.from({ length: 97 }, (_, i) => Math.sin(i * (trial + 1)) * 10 ** ((trial % 7) - 3))];
      const bound = 10 ** ((trial % 5) - 3);
      clipInPlace(values, bound);
      expect(l2NormOf(values)).toBeLessThanOrEqual(bound);
    }
  });

  it('refuses a bound that is not positive and finite, and non-finite values', () => {
    expect(() => clipInPlace([new Float32Array(1)], 0)).toThrow('clipInPlace: expected a clip norm > 0 and finite, got 0');
    expect(() => clipInPlace([Float32Array.from([Number.NaN])], 1)).toThrow('expected finite values, got a norm of NaN');
  });
});

describe('addGaussianNoiseInPlace', () => {
  const unit: GaussianSource = { gaussian: (count) => new Float64Array(count).fill(1) };

  it('adds stddev times the source\'s normals to every value', () => {
    const values = [Float32Array.from([1, 2]), Float32Array.from([3])];
    addGaussianNoiseInPlace(values, 0.5, unit);
    expect(values.map((v) => Array.from(v))).toEqual([[1.5, 2.5], [3.5]]);
  });

  it('draws N(0, stddev²) from node:crypto by default', () => {
    const values = [new Float32Array(100_000)];
    addGaussianNoiseInPlace(values, 2);
    const variance = values[0].reduce((s, v) => s + v * v, 0) / values[0].length;
    // Standard error of the variance estimate: 4·√(2/n) ≈ 0.018; 6 of them.
    expect(Math.abs(variance - 4)).toBeLessThan(0.11);
  });

  it('does nothing at 0 and refuses a negative stddev', () => {
    const values = [Float32Array.from([1])];
    addGaussianNoiseInPlace(values, 0, unit);
    expect(values[0][0]).toBe(1);
    expect(() => addGaussianNoiseInPlace(values, -1, unit)).toThrow('expected a standard deviation ≥ 0 and finite, got -1');
  });
});
