import { type ErrorCode, FedtlError } from '@fedtl/util';
import type { NamedTensor } from './domain';
import { float16BitsToFloat32, float32ToFloat16Bits } from './float16';
import { type WireTensor, decodeTensor, encodeTensor } from './tensor-codec';
import { randomFloat32 } from './testing/fixtures';

function float32Tensor(shape: number[], data: Float32Array, name = 'adapter/down/kernel'): NamedTensor {
  return { name, shape, dtype: 'float32', data };
}

/** The little-endian bytes of `values`, placed at `offset` inside a larger buffer. */
function bytesAt(values: Float32Array, offset: number): { source: Uint8Array; data: Uint8Array } {
  const source = new Uint8Array(offset + values.byteLength + 8);
  const view = new DataView(source.buffer);
  values.forEach((value, i) => view.setFloat32(offset + 4 * i, value, true));
  return { source, data: source.subarray(offset, offset + values.byteLength) };
}

function wire(overrides: Partial<WireTensor>): WireTensor {
  return {
    name: 'w',
    shape: [2],
    dtype: 'float32',
    encoding: 'raw',
    data: new Uint8Array(8),
    scale: 0,
    zeroPoint: 0,
    ...overrides,
  };
}

function expectFedtlError(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(FedtlError);
  expect((thrown as FedtlError).code).toBe(code);
  expect((thrown as FedtlError).message).toMatch(message);
}

describe('raw tensors', () => {
  const values = Float32Array.of(1.5, -2.25, 3e-8, 65536.5, 0, -0);

  it('decodes 4-aligned float32 data as a view over the same buffer, without copying', () => {
    const { source, data } = bytesAt(values, 8);
    const decoded = decodeTensor(wire({ shape: [2, 3], data }));
    expect(decoded.data).toBeInstanceOf(Float32Array);
    expect(decoded.data.buffer).toBe(source.buffer);
    expect(decoded.data.byteOffset).toBe(8);
    expect(Array.from(decoded.data)).toEqual(Array.from(values));
  });

  it('decodes unaligned float32 data (offset 1) correctly, into a copy', () => {
    const { source, data } = bytesAt(values, 1);
    const decoded = decodeTensor(wire({ shape: [2, 3], data }));
    expect(decoded.data.buffer).not.toBe(source.buffer);
    expect(Array.from(decoded.data)).toEqual(Array.from(values));
  });

  it('decodes unaligned data inside a Node Buffer, whose slice() would be another unaligned view', () => {
    const { data } = bytesAt(values, 3);
    const decoded = decodeTensor(wire({ shape: [6], data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) }));
    expect(Array.from(decoded.data)).toEqual(Array.from(values));
  });

  it('encodes float32 as little-endian bytes over the tensor memory', () => {
    const encoded = encodeTensor(float32Tensor([6], values));
    expect(encoded.encoding).toBe('raw');
    const view = new DataView(encoded.data.buffer, encoded.data.byteOffset, encoded.data.byteLength);
    expect(view.getFloat32(4, true)).toBe(-2.25);
    expect(encoded.data.buffer).toBe(values.buffer);
  });

  it('round-trips int32', () => {
    const tensor: NamedTensor = { name: 'steps', shape: [2, 2], dtype: 'int32', data: Int32Array.of(0, -1, 2 ** 31 - 1, -(2 ** 31)) };
    expect(decodeTensor(encodeTensor(tensor))).toEqual(tensor);
    const unaligned = new Uint8Array(17);
    unaligned.set(encodeTensor(tensor).data, 1);
    expect(decodeTensor({ ...encodeTensor(tensor), data: unaligned.subarray(1) })).toEqual(tensor);
  });

  it('round-trips an empty tensor [0, 5] and a scalar []', () => {
    const empty = float32Tensor([0, 5], new Float32Array(0));
    const decodedEmpty = decodeTensor(encodeTensor(empty));
    expect(decodedEmpty.shape).toEqual([0, 5]);
    expect(decodedEmpty.data.length).toBe(0);
    const scalar = float32Tensor([], Float32Array.of(0.125), 'temperature');
    expect(decodeTensor(encodeTensor(scalar))).toEqual(scalar);
    for (const encoding of ['float16', 'int8'] as const) {
      expect(decodeTensor(encodeTensor(empty, encoding)).data.length).toBe(0);
      expect(decodeTensor(encodeTensor(scalar, encoding)).data[0]).toBeCloseTo(0.125, 3);
    }
  });

  it('refuses a byte length that does not match the shape', () => {
    expectFedtlError(
      () => decodeTensor(wire({ shape: [2, 3], data: new Uint8Array(23) })),
      'FEDTL_ERR_BAD_TENSOR_DATA',
      /tensor 'w' \[2,3\] float32 raw: expected 24 bytes \(6 values × 4\), got 23/,
    );
    expectFedtlError(
      () => decodeTensor(wire({ shape: [], data: new Uint8Array(0) })),
      'FEDTL_ERR_BAD_TENSOR_DATA',
      /expected 4 bytes/,
    );
    expectFedtlError(
      () => decodeTensor(wire({ encoding: 'float16', shape: [3], data: new Uint8Array(4) })),
      'FEDTL_ERR_BAD_TENSOR_DATA',
      /float16: expected 6 bytes \(3 values × 2\), got 4/,
    );
  });

  it('refuses to encode data that does not match its shape or dtype', () => {
    expectFedtlError(() => encodeTensor(float32Tensor([3], new Float32Array(2))), 'FEDTL_ERR_BAD_TENSOR_DATA', /expected 3 values, got 2/);
    const mislabelled = { name: 'w', shape: [1], dtype: 'int32', data: new Float32Array(1) } as NamedTensor;
    expectFedtlError(() => encodeTensor(mislabelled), 'FEDTL_ERR_BAD_TENSOR_DTYPE', /expected a Int32Array, got a Float32Array/);
  });
});

describe('float16', () => {
  it('converts exactly representable values both ways', () => {
    const exact: Array<[number, number]> = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [2 ** -24, 0x0001],
      [2 ** -14, 0x0400],
      [-Infinity, 0xfc00],
    ];
    for (const [value, bits] of exact) {
      expect(float32ToFloat16Bits(value)).toBe(bits);
      expect(float16BitsToFloat32(bits)).toBe(value);
    }
    expect(float16BitsToFloat32(float32ToFloat16Bits(NaN))).toBeNaN();
  });

  it('rounds to nearest, ties to even, and overflows to Infinity', () => {
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(float32ToFloat16Bits(2 ** -25)).toBe(0x0000);
    expect(float32ToFloat16Bits(3 * 2 ** -25)).toBe(0x0002);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00);
  });

  it('keeps the relative error of normal values within 2^-11', () => {
    const values = randomFloat32(10_000, 5, 8);
    const decoded = decodeTensor(encodeTensor(float32Tensor([100, 100], values), 'float16')).data;
    expect(decoded).toBeInstanceOf(Float32Array);
    for (let i = 0; i < values.length; i++) {
      if (Math.abs(values[i]) >= 2 ** -14) expect(Math.abs(decoded[i] - values[i])).toBeLessThanOrEqual(Math.abs(values[i]) * 2 ** -11);
    }
  });

  it('refuses finite values beyond its range and int32 tensors', () => {
    expectFedtlError(
      () => encodeTensor(float32Tensor([2], Float32Array.of(1, 70000)), 'float16'),
      'FEDTL_ERR_BAD_TENSOR_DATA',
      /expected values within ±65504, got 70000 at index 1/,
    );
    const steps: NamedTensor = { name: 'steps', shape: [1], dtype: 'int32', data: Int32Array.of(3) };
    expectFedtlError(() => encodeTensor(steps, 'float16'), 'FEDTL_ERR_BAD_TENSOR_DTYPE', /cannot be sent as float16: expected float32, got int32/);
  });
});

describe('int8', () => {
  it('keeps every value within scale / 2 and zero exact', () => {
    const values = randomFloat32(4096, 9, 0.05);
    values[17] = 0;
    const encoded = encodeTensor(float32Tensor([64, 64], values), 'int8');
    expect(encoded.data.byteLength).toBe(4096);
    const range = Math.max(...values, 0) - Math.min(...values, 0);
    expect(encoded.scale).toBeCloseTo(range / 255, 8);
    const decoded = decodeTensor(encoded).data;
    expect(decoded).toBeInstanceOf(Float32Array);
    expect(decoded[17]).toBe(0);
    for (let i = 0; i < values.length; i++) {
      expect(Math.abs(decoded[i] - values[i])).toBeLessThanOrEqual(encoded.scale / 2 + 1e-7);
    }
  });

  it('handles one-signed and all-zero tensors', () => {
    for (const values of [Float32Array.of(0.5, 1, 2), Float32Array.of(-3, -1, -0.25), new Float32Array(3)]) {
      const encoded = encodeTensor(float32Tensor([3], values), 'int8');
      const decoded = decodeTensor(encoded).data;
      values.forEach((value, i) => expect(Math.abs(decoded[i] - value)).toBeLessThanOrEqual(encoded.scale / 2 + 1e-7));
    }
  });

  it('refuses non-finite values and invalid quantisation parameters', () => {
    expectFedtlError(
      () => encodeTensor(float32Tensor([3], Float32Array.of(1, NaN, 2)), 'int8'),
      'FEDTL_ERR_NON_FINITE',
      /tensor 'adapter\/down\/kernel' cannot be sent as int8: expected finite values, got NaN at index 1/,
    );
    expectFedtlError(
      () => decodeTensor(wire({ encoding: 'int8', data: new Uint8Array(2), scale: 0, zeroPoint: 0 })),
      'FEDTL_ERR_BAD_TENSOR_DATA',
      /expected a finite scale > 0 and an integer zero point in \[-128, 127\], got scale 0 and zero point 0/,
    );
    expectFedtlError(
      () => decodeTensor(wire({ encoding: 'int8', data: new Uint8Array(2), scale: 0.1, zeroPoint: 300 })),
      'FEDTL_ERR_BAD_TENSOR_DATA',
      /zero point 300/,
    );
    expectFedtlError(
      () => decodeTensor(wire({ encoding: 'int8', dtype: 'int32', data: new Uint8Array(2), scale: 1 })),
      'FEDTL_ERR_BAD_TENSOR_DTYPE',
      /int8-encoded: expected dtype float32, got int32/,
    );
  });
});

describe('sparse', () => {
  it('is reserved: decoding and encoding say this version does not support it', () => {
    expectFedtlError(
      () => decodeTensor(wire({ encoding: 'sparse' })),
      'FEDTL_ERR_BAD_TENSOR_DATA',
      /tensor 'w' uses the sparse encoding, which protocol v1 reserves but does not support/,
    );
    expectFedtlError(() => encodeTensor(float32Tensor([1], Float32Array.of(1)), 'sparse'), 'FEDTL_ERR_BAD_TENSOR_DATA', /sparse/);
  });
});
