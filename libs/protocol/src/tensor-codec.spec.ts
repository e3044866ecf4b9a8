import { type ErrorCode, FedtlError } from '@fedtl/util';
import type { NamedTensor } from './domain';
import { float16BitsToFloat32, float32ToFloat16Bits } from './float16';
import fc from 'fast-check';
import { encodeSparseIndices } from './sparse-indices';
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

describe('error bounds, for any values (fast-check)', () => {
  const finiteFloats = (max: number) => fc.float32Array({ minLength: 1, maxLength: 300, noDefaultInfinity: true, noNaN: true, min: -max, max });

  it('float16: relative error at most 2^-11 for normal values, and within 2^-25 below them', () => {
    fc.assert(
      fc.property(finiteFloats(65504), (values) => {
        const decoded = decodeTensor(encodeTensor(float32Tensor([values.length], values), 'float16')).data;
        values.forEach((value, i) => {
          const bound = Math.abs(value) >= 2 ** -14 ? Math.abs(value) * 2 ** -11 : 2 ** -25;
          expect(Math.abs(decoded[i] - value)).toBeLessThanOrEqual(bound);
        });
      }),
    );
  });

  it('int8: every value within scale / 2, the scale (max − min) / 255 over the values and 0', () => {
    fc.assert(
      fc.property(finiteFloats(1e6), (values) => {
        const encoded = encodeTensor(float32Tensor([values.length], values), 'int8');
        const decoded = decodeTensor(encoded).data;
        // float32 arithmetic of (q − zeroPoint) · scale adds at most one rounding of the result's size.
        values.forEach((value, i) => expect(Math.abs(decoded[i] - value)).toBeLessThanOrEqual(encoded.scale / 2 + Math.abs(value) * 2 ** -23));
      }),
    );
  });

  it('sparse: zeros exact, every listed value within float16 rounding (float32 values beyond its range, exact)', () => {
    const sparseValues = fc.float32Array({ minLength: 1, maxLength: 300, noDefaultInfinity: true, noNaN: true }).map((values) => values.map((v, i) => (i % 3 === 0 ? v : 0)));
    fc.assert(
      fc.property(sparseValues, (values) => {
        const encoded = encodeTensor(float32Tensor([values.length], values), 'sparse');
        const decoded = decodeTensor(encoded).data;
        const nonZero = values.filter((v) => v !== 0).length;
        expect(encoded.sparse?.count).toBe(nonZero);
        const exact = values.some((v) => Math.abs(v) > 65504);
        expect(encoded.sparse?.values).toBe(exact ? 'raw' : 'float16');
        values.forEach((value, i) => {
          if (value === 0 || exact) expect(decoded[i]).toBe(value === 0 ? 0 : value);
          else expect(Math.abs(decoded[i] - value)).toBeLessThanOrEqual(Math.abs(value) >= 2 ** -14 ? Math.abs(value) * 2 ** -11 : 2 ** -25);
        });
      }),
    );
  });
});

describe('sparse', () => {
  const dense = Float32Array.from({ length: 1000 }, (_, i) => (i % 97 === 0 ? (i - 500) / 64 : 0));

  it('sends a top-1% tensor in about 3 bytes an entry: 2 for a float16 value, about 1 for its index gap', () => {
    const encoded = encodeTensor(float32Tensor([10, 100], dense), 'sparse');
    expect(encoded.sparse).toMatchObject({ count: 11, values: 'float16' });
    expect(encoded.data.byteLength).toBe(22);
    // Gaps of 97 fit one varint byte each.
    expect(encoded.sparse?.indices.byteLength).toBe(11);
    expect(Array.from(decodeTensor(encoded).data)).toEqual(Array.from(dense));
  });

  it('round-trips an empty and an all-zero tensor as no entries', () => {
    for (const shape of [[0, 4], [3]]) {
      const encoded = encodeTensor(float32Tensor(shape, new Float32Array(shape[0] * (shape[1] ?? 1))), 'sparse');
      expect(encoded.sparse?.count).toBe(0);
      expect(Array.from(decodeTensor(encoded).data)).toEqual(new Array(shape[0] * (shape[1] ?? 1)).fill(0));
    }
  });

  /** A sparse wire tensor of `dense` values with the given positions and float32 values. */
  function sparseWire(denseLength: number, positions: number[], overrides: Partial<WireTensor> = {}, indices = encodeSparseIndices(positions)): WireTensor {
    const values = Float32Array.from(positions, (_, i) => i + 1);
    return wire({
      shape: [denseLength],
      encoding: 'sparse',
      data: new Uint8Array(values.buffer),
      sparse: { count: positions.length, indices, values: 'raw' },
      ...overrides,
    });
  }

  it('decodes float32 values exactly at their positions', () => {
    expect(Array.from(decodeTensor(sparseWire(6, [0, 2, 5])).data)).toEqual([1, 0, 2, 0, 0, 3]);
  });

  it('refuses hostile layouts with what was expected and what came', () => {
    const cases: Array<[WireTensor, RegExp]> = [
      // Position 6 of a 6-value tensor: the gap coding cannot hide it.
      [sparseWire(6, [0, 6]), /expected positions below 6, got 6 at index 1/],
      // A gap of 0 is a duplicate position.
      [sparseWire(6, [2, 3], {}, Uint8Array.of(2, 0)), /a gap of 0 \(a duplicate position 2\)/],
      // A continuation bit on the last byte: the varint never ends.
      [sparseWire(6, [1, 2], {}, Uint8Array.of(1, 0x81)), /the bytes end inside index 1/],
      // Six continuation bytes: not a uint32.
      [sparseWire(6, [1], {}, Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0)), /index 0 in at most 5 varint bytes, got more/],
      // Bytes left over after the last index.
      [sparseWire(6, [1, 2], {}, Uint8Array.of(1, 1, 1)), /expected 2 indices in 2 bytes, got 1 bytes more/],
      // More entries than values.
      [sparseWire(2, [0, 1], { sparse: { count: 3, indices: Uint8Array.of(0, 1, 1), values: 'raw' }, data: new Uint8Array(12) }), /expected at most 2 entries \(its dense length\), got 3/],
      // The count and the value bytes disagree.
      [sparseWire(6, [0, 1], { data: new Uint8Array(4) }), /expected 8 value bytes \(2 entries × 4, raw\), got 4/],
      // A huge count with few bytes is refused before anything is allocated.
      [sparseWire(2 ** 24, [0], { sparse: { count: 2 ** 24, indices: Uint8Array.of(0), values: 'float16' }, data: new Uint8Array(2 ** 25) }), /expected at least 16777216 index bytes, got 1/],
      [sparseWire(6, [0], { sparse: { count: 1, indices: Uint8Array.of(0), values: 'int8' } }), /expected its values raw \(float32\) or float16, got int8/],
      // A shape of 2^31 × 2^31 with one entry would allocate 16 EiB.
      [sparseWire(1, [0], { shape: [2 ** 31, 2 ** 31] }), /at most 16777216 values in all, got 4611686018427388000 more/],
    ];
    for (const [hostile, message] of cases) expectFedtlError(() => decodeTensor(hostile), 'FEDTL_ERR_BAD_TENSOR_DATA', message);
    expectFedtlError(() => decodeTensor(sparseWire(2, [0], { dtype: 'int32' })), 'FEDTL_ERR_BAD_TENSOR_DTYPE', /sparse-encoded: expected dtype float32, got int32/);
  });

  it('shares one dense budget among the sparse tensors of a message', () => {
    const budget = { sparseDenseValues: 10 };
    decodeTensor(sparseWire(6, [0]), budget);
    expect(budget.sparseDenseValues).toBe(4);
    expectFedtlError(() => decodeTensor(sparseWire(6, [0]), budget), 'FEDTL_ERR_BAD_TENSOR_DATA', /got 6 more with 4 left/);
  });

  it('refuses NaN and infinity, which have no place among kept values', () => {
    expectFedtlError(() => encodeTensor(float32Tensor([2], Float32Array.of(0, Infinity)), 'sparse'), 'FEDTL_ERR_NON_FINITE', /cannot be sent as sparse: expected finite values, got Infinity at index 1/);
  });
});
