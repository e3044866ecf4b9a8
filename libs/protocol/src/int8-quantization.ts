// Affine 8-bit quantisation of a float32 tensor: value = (q - zeroPoint) * scale, q in [-128, 127].
// The range always includes 0, so zero entries (most of a small delta) come back exactly, and every other
// value comes back within scale / 2.

export interface Int8Quantized {
  values: Int8Array;
  /** Stored as float32 on the wire; already rounded to float32 here so both sides dequantise alike. */
  scale: number;
  zeroPoint: number;
}

export const INT8_MIN = -128;
export const INT8_MAX = 127;

/** Quantises finite values; the caller checks finiteness first (a NaN has no place on the int8 grid). */
export function quantizeInt8(values: Float32Array): Int8Quantized {
  let low = 0;
  let high = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < low) low = values[i];
    if (values[i] > high) high = values[i];
  }
  // An all-zero tensor (or a range too small for float32) still needs a positive scale to divide by.
  const scale = Math.fround((high - low) / (INT8_MAX - INT8_MIN)) || 1;
  const zeroPoint = clamp(Math.round(INT8_MIN - low / scale), INT8_MIN, INT8_MAX);
  const quantized = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    quantized[i] = clamp(Math.round(values[i] / scale) + zeroPoint, INT8_MIN, INT8_MAX);
  }
  return { values: quantized, scale, zeroPoint };
}

export function dequantizeInt8(quantized: Int8Array, scale: number, zeroPoint: number): Float32Array {
  const values = new Float32Array(quantized.length);
  for (let i = 0; i < quantized.length; i++) values[i] = (quantized[i] - zeroPoint) * scale;
  return values;
}

function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}
