// IEEE 754 half precision <-> float32, bit by bit: Node 20 has no Float16Array or Math.f16round.
// Encoding rounds to nearest, ties to even, like a hardware conversion, so results match other stacks.

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

export const FLOAT16_MAX = 65504;

/** The float16 bit pattern nearest to `value`; beyond ±65504 that is ±Infinity. */
export function float32ToFloat16Bits(value: number): number {
  scratchFloat[0] = value;
  const bits = scratchBits[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;

  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;

  if (halfExponent <= 0) {
    // Subnormal half: below half of the smallest subnormal (2^-25) everything rounds to zero.
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    const half = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const roundUp = remainder > halfway || (remainder === halfway && (half & 1) === 1);
    return sign | (half + (roundUp ? 1 : 0));
  }

  const half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  const roundUp = remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1);
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  return sign | (half + (roundUp ? 1 : 0));
}

let halfToFloatTable: Float32Array | undefined;

/** The value of a float16 bit pattern. Looks up a 65536-entry table built on first use (256 KiB). */
export function float16BitsToFloat32(bits: number): number {
  halfToFloatTable ??= buildHalfToFloatTable();
  return halfToFloatTable[bits & 0xffff];
}

function buildHalfToFloatTable(): Float32Array {
  const table = new Float32Array(0x10000);
  for (let bits = 0; bits < 0x10000; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0) table[bits] = sign * mantissa * 2 ** -24;
    else if (exponent === 0x1f) table[bits] = mantissa ? NaN : sign * Infinity;
    else table[bits] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return table;
}

/** Whether every finite value of `values` is within ±FLOAT16_MAX (infinities and NaN have float16 forms). */
export function fitsFloat16(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) {
    if (Math.abs(values[i]) > FLOAT16_MAX && Number.isFinite(values[i])) return false;
  }
  return true;
}
