// Fixed-point encoding of float updates into the ring Z_{2^32}, where secure aggregation adds masks.
//
// Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine Learning", CCS 2017
// (https://eprint.iacr.org/2017/281), §4: inputs are vectors over Z_R, and R must be large enough that
// the sum of all users' inputs does not wrap. This file is that encoding for fedtl.
//
// Why k = 32 (Uint32Array) and not 64: a uint32 add is exact in float64 and the typed-array store wraps it mod
// 2^32, so a masked sum costs one array pass and no BigInt. 32 bits leave room for, e.g., 1,024 clients with
// clip 1 and 20 fractional bits (2^10 · 1 · 2^20 = 2^30 < 2^31; step 2^-20 ≈ 9.5e-7). A configuration that needs
// more head room is refused by the constructor with its figures, rather than silently wrapping.
import { FedtlError } from '@fedtl/util';

/** Number of bits k of the ring Z_{2^k} every encoded vector lives in. */
export const RING_BITS = 32;

/** 2^(k-1): a centred ring element decodes to [-2^(k-1), 2^(k-1) - 1]. */
const HALF_RING = 2 ** (RING_BITS - 1);
const RING_SIZE = 2 ** RING_BITS;

/** Options of a {@link FixedPointCodec}; all three are required, none has a default that could overflow. */
export interface FixedPointOptions {
  /** Bits after the binary point: a value x is stored as round(x · 2^fractionalBits). Integer in [0, 30]. */
  readonly fractionalBits: number;
  /** Largest |x| encoded; larger values are clipped to ±clip (in update units, e.g. a weight delta). */
  readonly clip: number;
  /** Largest number of encoded vectors that may be summed before decoding (clients in a round). */
  readonly maxSummands: number;
}

/** Result of {@link FixedPointCodec.encode}: the ring elements and how many values had to be clipped. */
export interface EncodedVector {
  /** round(clamp(x_i) · scale) mod 2^32, one element per input value. */
  readonly values: Uint32Array;
  /** How many inputs had |x| > clip and were clipped to ±clip (a caller may log or refuse on it). */
  readonly clipped: number;
}

/**
 * Encodes float values into Z_{2^32} with a fixed-point scale, and decodes a sum of at most `maxSummands`
 * encoded vectors back to floats (Bonawitz et al. 2017, §2: inputs in Z_R with R > the largest possible sum).
 *
 * Overflow condition: each encoded value has |round(x · scale)| ≤ round(clip · scale), so a sum of N of them
 * is exact in the centred interval as long as N · round(clip · scale) ≤ 2^31 − 1, i.e. N · clip · scale < 2^31.
 * The constructor refuses (FEDTL_ERR_BAD_CONFIG) options that break it for N = maxSummands, and
 * {@link decodeSum} refuses a count above maxSummands. Decoding error: each value is rounded by at most
 * step / 2 (step = 2^-fractionalBits), so a decoded sum of N vectors is within N · step / 2 of the exact sum of
 * the clipped inputs.
 */
export class FixedPointCodec {
  readonly fractionalBits: number;
  readonly clip: number;
  readonly maxSummands: number;
  /** 2^fractionalBits: encoded units per update unit. A power of two, so decoding is exact in float64. */
  readonly scale: number;
  /** 1 / scale: the quantisation step in update units. */
  readonly step: number;

  constructor(options: FixedPointOptions) {
    const { fractionalBits, clip, maxSummands } = options;
    if (!Number.isInteger(fractionalBits) || fractionalBits < 0 || fractionalBits > RING_BITS - 2) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_CONFIG',
        `fixed point: expected fractionalBits an integer in [0, ${RING_BITS - 2}], got ${fractionalBits}`,
        { fractionalBits },
      );
    }
    if (!Number.isFinite(clip) || clip <= 0) {
      throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `fixed point: expected clip a positive finite number, got ${clip}`, {
        clip,
      });
    }
    if (!Number.isSafeInteger(maxSummands) || maxSummands < 1) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_CONFIG',
        `fixed point: expected maxSummands a positive integer, got ${maxSummands}`,
        { maxSummands },
      );
    }
    const scale = 2 ** fractionalBits;
    const largestSum = maxSummands * Math.round(clip * scale);
    if (largestSum > HALF_RING - 1) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_CONFIG',
        `fixed point: expected maxSummands · clip · 2^fractionalBits < 2^${RING_BITS - 1} so a sum cannot wrap, ` +
          `got ${maxSummands} · ${clip} · 2^${fractionalBits} = ${largestSum}; lower one of them`,
        { maxSummands, clip, fractionalBits, largestSum },
      );
    }
    this.fractionalBits = fractionalBits;
    this.clip = clip;
    this.maxSummands = maxSummands;
    this.scale = scale;
    this.step = 1 / scale;
  }

  /**
   * Encodes `values` (any units; float32 or float64) as round(clamp(x, ±clip) · scale) mod 2^32.
   * Throws FEDTL_ERR_NON_FINITE (naming the first index) on NaN or ±Infinity: those have no encoding.
   */
  encode(values: ArrayLike<number>): EncodedVector {
    const out = new Uint32Array(values.length);
    let clipped = 0;
    for (let i = 0; i < values.length; i++) {
      let x = values[i];
      if (!Number.isFinite(x)) {
        throw new FedtlError(
          'FEDTL_ERR_NON_FINITE',
          `fixed point: expected finite values, got ${x} at index ${i} of ${values.length}`,
          { index: i },
        );
      }
      if (x > this.clip) {
        x = this.clip;
        clipped++;
      } else if (x < -this.clip) {
        x = -this.clip;
        clipped++;
      }
      // A typed-array store applies ToUint32, i.e. reduction mod 2^32 (two's complement for negatives).
      out[i] = Math.round(x * this.scale);
    }
    return { values: out, clipped };
  }

  /**
   * Decodes a ring vector holding the sum of `summands` encoded vectors (1 ≤ summands ≤ maxSummands) to float64,
   * reading each element in the centred interval [-2^31, 2^31) and dividing by the scale.
   * Throws FEDTL_ERR_BAD_CONFIG when `summands` is outside that range: such a sum may have wrapped.
   */
  decodeSum(sum: Uint32Array, summands: number): Float64Array {
    if (!Number.isInteger(summands) || summands < 1 || summands > this.maxSummands) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_CONFIG',
        `fixed point: expected a sum of 1 to ${this.maxSummands} encoded vectors (the codec's head room), ` +
          `got ${summands}`,
        { summands, maxSummands: this.maxSummands },
      );
    }
    const out = new Float64Array(sum.length);
    for (let i = 0; i < sum.length; i++) {
      const u = sum[i];
      out[i] = (u >= HALF_RING ? u - RING_SIZE : u) / this.scale;
    }
    return out;
  }
}

/** Throws FEDTL_ERR_BAD_TENSOR_SHAPE unless both ring vectors have the same length. */
function assertSameLength(target: Uint32Array, operand: Uint32Array, operation: string): void {
  if (target.length !== operand.length) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_SHAPE',
      `${operation}: expected ring vectors of one length, got ${target.length} and ${operand.length}`,
      { expected: target.length, got: operand.length },
    );
  }
}

/** target ← target + operand (mod 2^32), element-wise and in place; returns target. Throws on a length mismatch. */
export function addInPlace(target: Uint32Array, operand: Uint32Array): Uint32Array {
  assertSameLength(target, operand, 'ring add');
  // Both terms are < 2^32, so the float64 sum is exact and the Uint32Array store reduces it mod 2^32.
  for (let i = 0; i < target.length; i++) target[i] = target[i] + operand[i];
  return target;
}

/** target ← target − operand (mod 2^32), element-wise and in place; returns target. Throws on a length mismatch. */
export function subtractInPlace(target: Uint32Array, operand: Uint32Array): Uint32Array {
  assertSameLength(target, operand, 'ring subtract');
  for (let i = 0; i < target.length; i++) target[i] = target[i] - operand[i];
  return target;
}
