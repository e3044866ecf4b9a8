import fc from 'fast-check';
import { FedtlError } from '@fedtl/util';
import { addInPlace, FixedPointCodec, subtractInPlace } from './fixed-point';

/** A codec with N · clip · scale < 2^31 by construction (clip a power of two), and N float32 vectors for it. */
const codecAndInputs = fc
  .record({
    fractionalBits: fc.integer({ min: 0, max: 24 }),
    summands: fc.integer({ min: 1, max: 40 }),
    length: fc.integer({ min: 1, max: 64 }),
  })
  .chain(({ fractionalBits, summands, length }) => {
    const maxClipExponent = 30 - fractionalBits - Math.ceil(Math.log2(summands));
    return fc.integer({ min: Math.min(-4, maxClipExponent), max: maxClipExponent }).chain((clipExponent) => {
      const clip = 2 ** clipExponent;
      // Inputs reach twice the clip so that clipping is exercised too.
      const bound = Math.fround(2 * clip);
      const vector = fc.float32Array({ minLength: length, maxLength: length, min: -bound, max: bound, noNaN: true });
      return fc.record({
        codec: fc.constant(new FixedPointCodec({ fractionalBits, clip, maxSummands: summands })),
        inputs: fc.array(vector, { minLength: summands, maxLength: summands }),
      });
    });
  });

function encodedSum(codec: FixedPointCodec, inputs: readonly Float32Array[]): Uint32Array {
  const sum = new Uint32Array(inputs[0].length);
  for (const x of inputs) addInPlace(sum, codec.encode(x).values);
  return sum;
}

describe('FixedPointCodec', () => {
  it('decode(Σ encode(x_i)) is within N · step / 2 of Σ clamp(x_i) (fast-check)', () => {
    fc.assert(
      fc.property(codecAndInputs, ({ codec, inputs }) => {
        const decoded = codec.decodeSum(encodedSum(codec, inputs), inputs.length);
        // The float64 reference sum itself rounds by at most N · |sum| · 2^-53; that slack is far below a step.
        const tolerance = (inputs.length * codec.step) / 2 + inputs.length * codec.clip * inputs.length * 2 ** -52;
        for (let i = 0; i < decoded.length; i++) {
          let reference = 0;
          for (const x of inputs) reference += Math.max(-codec.clip, Math.min(codec.clip, x[i]));
          if (Math.abs(decoded[i] - reference) > tolerance) return false;
        }
        return true;
      }),
      { seed: 20170810, numRuns: 300 },
    );
  });

  it('decodes values on the grid exactly, including N summands all at +clip or all at −clip', () => {
    const codec = new FixedPointCodec({ fractionalBits: 20, clip: 1, maxSummands: 1023 });
    const inputs = Array.from({ length: 1023 }, () => Float32Array.of(1, -1, 0.5, -0.25, 2 ** -20, -(2 ** -20)));
    expect(Array.from(codec.decodeSum(encodedSum(codec, inputs), 1023))).toEqual([
      1023,
      -1023,
      511.5,
      -255.75,
      1023 * 2 ** -20,
      -1023 * 2 ** -20,
    ]);
  });

  it('clips values beyond ±clip and counts them', () => {
    const codec = new FixedPointCodec({ fractionalBits: 8, clip: 2, maxSummands: 4 });
    const { values, clipped } = codec.encode([3, -5, 1.5]);
    expect(clipped).toBe(2);
    expect(Array.from(codec.decodeSum(values, 1))).toEqual([2, -2, 1.5]);
  });

  it('refuses options whose sum could wrap, naming the figures', () => {
    expect(() => new FixedPointCodec({ fractionalBits: 20, clip: 1, maxSummands: 2048 })).toThrow(
      /expected maxSummands · clip · 2\^fractionalBits < 2\^31 .*got 2048 · 1 · 2\^20 = 2147483648/,
    );
    expect(() => new FixedPointCodec({ fractionalBits: 31, clip: 1, maxSummands: 1 })).toThrow(
      /expected fractionalBits an integer in \[0, 30\], got 31/,
    );
    expect(() => new FixedPointCodec({ fractionalBits: 8, clip: 0, maxSummands: 1 })).toThrow(/got 0/);
    expect(() => new FixedPointCodec({ fractionalBits: 8, clip: 1, maxSummands: 0.5 })).toThrow(/got 0.5/);
  });

  it('refuses to decode more summands than its head room, and non-finite inputs', () => {
    const codec = new FixedPointCodec({ fractionalBits: 8, clip: 1, maxSummands: 3 });
    const decodeFour = () => codec.decodeSum(new Uint32Array(1), 4);
    expect(decodeFour).toThrow(FedtlError);
    expect(decodeFour).toThrow('expected a sum of 1 to 3 encoded vectors (the codec\'s head room), got 4');
    expect(() => codec.encode([0, NaN])).toThrow('expected finite values, got NaN at index 1 of 2');
    expect(() => codec.encode([Infinity])).toThrow(
      expect.objectContaining({ name: 'FedtlError', code: 'FEDTL_ERR_NON_FINITE' }),
    );
  });
});

describe('ring arithmetic mod 2^32', () => {
  it('wraps on add and subtract, and subtract undoes add', () => {
    const a = Uint32Array.of(0xffffffff, 0, 5);
    const b = Uint32Array.of(2, 1, 5);
    expect(Array.from(addInPlace(a, b))).toEqual([1, 1, 10]);
    expect(Array.from(subtractInPlace(a, b))).toEqual([0xffffffff, 0, 5]);
    expect(Array.from(subtractInPlace(Uint32Array.of(0), Uint32Array.of(1)))).toEqual([0xffffffff]);
  });

  it('refuses vectors of different lengths', () => {
    expect(() => addInPlace(new Uint32Array(2), new Uint32Array(3))).toThrow(
      'ring add: expected ring vectors of one length, got 2 and 3',
    );
  });
});
