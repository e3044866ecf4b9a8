// DP-FedAvg's client step against its definition (McMahan et al., ICLR 2018): the delta's L2 norm over all tensors
// together ends at exactly S when it was above, untouched below; the noise has standard deviation s per coordinate.
import { seededRandom } from '@fedtl/util';
import { clipAndNoiseDelta, type GaussianSource } from './clip-update';

/** Box–Muller normals from a seeded uniform source: tests only (the client's noise comes from node:crypto). */
function seededGaussian(seed: number): GaussianSource {
  const uniform = seededRandom(seed);
  return {
    gaussian(count) {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
      return out;
    },
  };
}

/** A source that must not be used. */
const noDraws: GaussianSource = {
  gaussian: () => {
    throw new Error('expected no noise to be drawn');
  },
};

function norm(deltas: readonly Float32Array[]): number {
  let sum = 0;
  for (const delta of deltas) for (const v of delta) sum += v * v;
  return Math.sqrt(sum);
}

describe('clipAndNoiseDelta', () => {
  // Norm 13 over both tensors together (3, 4 | 12), each tensor alone within a bound of 12.
  const delta = () => [Float32Array.from([3, 4]), Float32Array.from([12])];

  it('scales the whole delta, all tensors together, to norm exactly S when it is above', () => {
    const input = delta();
    const result = clipAndNoiseDelta(input, 6.5, 0, noDraws);
    expect(result.normBefore).toBe(13);
    expect(result.clipFactor).toBe(0.5);
    expect(result.deltas.map((d) => Array.from(d))).toEqual([[1.5, 2], [6]]);
    expect(norm(result.deltas)).toBe(6.5);
    expect(input.map((d) => Array.from(d))).toEqual([[3, 4], [12]]);
    const odd = clipAndNoiseDelta(delta(), 0.7, 0, noDraws);
    expect(norm(odd.deltas)).toBeLessThanOrEqual(0.7 * (1 + 1e-6));
    expect(norm(odd.deltas)).toBeCloseTo(0.7, 6);
  });

  it('leaves a delta within the bound as it is (a copy), factor 1, drawing no noise without s', () => {
    const input = delta();
    const result = clipAndNoiseDelta(input, 13, 0, noDraws);
    expect(result).toEqual({ deltas: input, normBefore: 13, clipFactor: 1 });
    expect(result.deltas[0]).not.toBe(input[0]);
    expect(clipAndNoiseDelta([new Float32Array(3)], 1, 0, noDraws)).toEqual({ deltas: [new Float32Array(3)], normBefore: 0, clipFactor: 1 });
  });

  it('adds s times the source\'s normals to every clipped coordinate', () => {
    const ones: GaussianSource = { gaussian: (count) => new Float64Array(count).fill(1) };
    const result = clipAndNoiseDelta(delta(), 6.5, 0.25, ones);
    expect(result.deltas.map((d) => Array.from(d))).toEqual([[1.75, 2.25], [6.25]]);
    expect(result.clipFactor).toBe(0.5);
  });

  it('adds noise of standard deviation s and mean 0 per coordinate', () => {
    const size = 200_000;
    const s = 0.3;
    const result = clipAndNoiseDelta([new Float32Array(size / 2), new Float32Array(size / 2)], 1, s, seededGaussian(11));
    let sum = 0;
    let squares = 0;
    for (const d of result.deltas) {
      for (const v of d) {
        sum += v;
        squares += v * v;
      }
    }
    const mean = sum / size;
    const std = Math.sqrt(squares / size - mean * mean);
    // Five standard errors: the mean's is s/√N, the standard deviation's s/√(2N) (0.16 % here).
    expect(Math.abs(mean)).toBeLessThan((5 * s) / Math.sqrt(size));
    expect(Math.abs(std / s - 1)).toBeLessThan(5 / Math.sqrt(2 * size));
  });

  it('refuses a bound or a noise out of range, and a delta that is not finite', () => {
    expect(() => clipAndNoiseDelta(delta(), 0, 0, noDraws)).toThrow(new RangeError('clipAndNoiseDelta: expected a clip norm S > 0 and finite, got 0'));
    expect(() => clipAndNoiseDelta(delta(), Infinity, 0, noDraws)).toThrow(RangeError);
    expect(() => clipAndNoiseDelta(delta(), 1, -0.1, noDraws)).toThrow('expected a noise standard deviation s ≥ 0 and finite, got -0.1');
    expect(() => clipAndNoiseDelta([Float32Array.from([1, NaN])], 1, 0, noDraws)).toThrow('expected a finite delta, got NaN in tensor 0 at index 1');
  });
});
