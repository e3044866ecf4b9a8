// NamedTensor <-> the plain form of the `Tensor` wire message. Raw data travels as little-endian
// float32/int32; float16 and int8 compress float32 tensors; sparse lists a float32 tensor's non-zero entries.
// Decoding always yields dense float32 (or int32) data.
import { FedtlError, isFloat32Array, isInt32Array } from '@fedtl/util';
import type { DType, NamedTensor, TensorData, TensorEncoding } from './domain';
import { FIELD_LIMITS } from './field-limits';
import { FLOAT16_MAX, float16BitsToFloat32, float32ToFloat16Bits } from './float16';
import { INT8_MAX, INT8_MIN, dequantizeInt8, quantizeInt8 } from './int8-quantization';
import { decodeSparseIndices, encodeSparseIndices } from './sparse-indices';

// Raw data is read through typed-array views over the received bytes, which use the host's byte order.
// Every platform fedtl runs on (x86-64, arm64) is little-endian like the wire; checked once so that a
// big-endian host fails loudly at load instead of swapping every value silently.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new FedtlError(
    'FEDTL_ERR_INTERNAL',
    'tensor codec expected a little-endian host like the wire, got big-endian',
  );
}

/** The `Tensor` message as plain data; codec.ts maps it to and from the generated class. */
export interface WireTensor {
  name: string;
  shape: number[];
  dtype: DType;
  encoding: TensorEncoding;
  data: Uint8Array;
  /** int8 encoding only: value = (q - zeroPoint) * scale. */
  scale: number;
  zeroPoint: number;
  /** sparse encoding only (tensor.proto fields 8-10); absent reads as no entries. */
  sparse?: SparseLayout;
}

/**
 * Where a sparse tensor's entries are: `count` positions in `indices` (varint gaps, sparse-indices.ts), their
 * values in `data` as float32 (`raw`) or `float16`.
 */
export interface SparseLayout {
  count: number;
  indices: Uint8Array;
  values: TensorEncoding;
}

const BYTES_PER_VALUE: Record<Exclude<TensorEncoding, 'sparse'>, number> = { raw: 4, float16: 2, int8: 1 };

/** Decoding limits a message shares among its tensors. */
export interface DecodeBudget {
  /**
   * Dense values the message's sparse tensors may still expand to (FIELD_LIMITS.sparseDenseValuesPerMessage at
   * the start of a message); decoding a sparse tensor takes its dense length from it.
   */
  sparseDenseValues: number;
  /** What `sparseDenseValues` was at the start of the message, for the refusal's wording (default the field limit). */
  readonly sparseDenseLimit?: number;
}

/** Number of values a tensor of this shape holds: 1 for a scalar (`[]`), 0 when any dimension is 0. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((count, dim) => count * dim, 1);
}

/**
 * The wire form of `tensor` in `encoding`. `raw` is exact; `float16` rounds to nearest (relative error at most
 * 2^-11 for normal values); `int8` quantises with one affine scale for the tensor (error at most scale / 2, with
 * scale = (max − min) / 255 over the values and 0); `sparse` lists the non-zero entries (a top-k sparsified
 * delta, top-k.ts) with float16 values when every one is within ±65504, float32 otherwise.
 * @throws FedtlError FEDTL_ERR_BAD_TENSOR_DTYPE / _DATA when the data does not match dtype and shape, or a lossy
 *   encoding is asked of int32 data; FEDTL_ERR_BAD_TENSOR_DATA for a finite value beyond float16's range;
 *   FEDTL_ERR_NON_FINITE for int8 or sparse of a NaN or infinity.
 */
export function encodeTensor(tensor: NamedTensor, encoding: TensorEncoding = 'raw'): WireTensor {
  requireConsistent(tensor);
  const header = { name: tensor.name, shape: [...tensor.shape], dtype: tensor.dtype, encoding };
  switch (encoding) {
    case 'raw':
      return { ...header, data: bytesOf(tensor.data), scale: 0, zeroPoint: 0 };
    case 'float16':
      return { ...header, data: toFloat16Bytes(requireFloat32(tensor, encoding), tensor.name), scale: 0, zeroPoint: 0 };
    case 'int8': {
      const values = requireFloat32(tensor, encoding);
      requireFinite(values, tensor.name, encoding);
      const quantized = quantizeInt8(values);
      return { ...header, data: bytesOf(quantized.values), scale: quantized.scale, zeroPoint: quantized.zeroPoint };
    }
    case 'sparse': {
      const values = requireFloat32(tensor, encoding);
      requireFinite(values, tensor.name, encoding);
      return { ...header, ...toSparse(values, tensor.name), scale: 0, zeroPoint: 0 };
    }
  }
}

/**
 * The dense tensor `wire` describes.
 * @param budget shared by one message's tensors: a sparse tensor's dense length is taken from it
 * @throws FedtlError FEDTL_ERR_BAD_TENSOR_DATA when the bytes do not match the header (length, quantisation, sparse
 *   count, indices or values encoding, or a sparse tensor beyond the budget); FEDTL_ERR_BAD_TENSOR_DTYPE for a
 *   lossy encoding of int32.
 */
export function decodeTensor(wire: WireTensor, budget: DecodeBudget = { sparseDenseValues: FIELD_LIMITS.sparseDenseValuesPerMessage }): NamedTensor {
  const count = elementCount(wire.shape);
  const { name, shape, dtype } = wire;
  switch (wire.encoding) {
    case 'raw': {
      requireByteLength(wire, count);
      const data = dtype === 'float32' ? float32View(wire.data, count) : int32View(wire.data, count);
      return { name, shape, dtype, data };
    }
    case 'float16':
      requireFloat32Dtype(wire);
      requireByteLength(wire, count);
      return { name, shape, dtype, data: fromFloat16Bytes(wire.data, count) };
    case 'int8': {
      requireFloat32Dtype(wire);
      requireByteLength(wire, count);
      requireQuantization(wire);
      const quantized = new Int8Array(wire.data.buffer, wire.data.byteOffset, count);
      return { name, shape, dtype, data: dequantizeInt8(quantized, wire.scale, wire.zeroPoint) };
    }
    case 'sparse':
      requireFloat32Dtype(wire);
      return { name, shape, dtype, data: fromSparse(wire, count, budget) };
  }
}

/** The non-zero entries of `values` as a sparse layout and its value bytes. */
function toSparse(values: Float32Array, name: string): { data: Uint8Array; sparse: SparseLayout } {
  const positions: number[] = [];
  let fitsFloat16 = true;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === 0) continue;
    positions.push(i);
    if (Math.abs(values[i]) > FLOAT16_MAX) fitsFloat16 = false;
  }
  const kept = Float32Array.from(positions, (position) => values[position]);
  return {
    data: fitsFloat16 ? toFloat16Bytes(kept, name) : bytesOf(kept),
    sparse: { count: positions.length, indices: encodeSparseIndices(positions), values: fitsFloat16 ? 'float16' : 'raw' },
  };
}

function fromSparse(wire: WireTensor, denseLength: number, budget: DecodeBudget): Float32Array {
  const { count, indices, values } = wire.sparse ?? { count: 0, indices: new Uint8Array(0), values: 'raw' };
  const header = `tensor '${wire.name}' [${wire.shape.join(',')}] is sparse`;
  if (denseLength > budget.sparseDenseValues) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_DATA',
      `${header}: expected its message's sparse tensors to hold at most ${budget.sparseDenseLimit ?? FIELD_LIMITS.sparseDenseValuesPerMessage} values in all, ` +
        `got ${denseLength} more with ${budget.sparseDenseValues} left`,
    );
  }
  budget.sparseDenseValues -= denseLength;
  if (count > denseLength) throw new FedtlError('FEDTL_ERR_BAD_TENSOR_DATA', `${header}: expected at most ${denseLength} entries (its dense length), got ${count}`);
  if (values !== 'raw' && values !== 'float16') {
    throw new FedtlError('FEDTL_ERR_BAD_TENSOR_DATA', `${header}: expected its values raw (float32) or float16, got ${values}`);
  }
  const bytesPerValue = BYTES_PER_VALUE[values];
  if (wire.data.byteLength !== count * bytesPerValue) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_DATA',
      `${header}: expected ${count * bytesPerValue} value bytes (${count} entries × ${bytesPerValue}, ${values}), got ${wire.data.byteLength}`,
    );
  }
  const positions = decodeSparseIndices(indices, count, denseLength, wire.name);
  const kept = values === 'raw' ? float32View(wire.data, count) : fromFloat16Bytes(wire.data, count);
  const dense = new Float32Array(denseLength);
  for (let i = 0; i < count; i++) dense[positions[i]] = kept[i];
  return dense;
}

function bytesOf(data: TensorData | Int8Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

// A view shares the received buffer, so a large weight set is not copied; typed-array views need an offset
// that is a multiple of the element size, so unaligned data is copied into a fresh buffer first.
function float32View(bytes: Uint8Array, count: number): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, count);
  return new Float32Array(alignedCopy(bytes).buffer, 0, count);
}

function int32View(bytes: Uint8Array, count: number): Int32Array {
  if (bytes.byteOffset % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, count);
  return new Int32Array(alignedCopy(bytes).buffer, 0, count);
}

// Not bytes.slice(): on a Node Buffer that is another view at the same unaligned offset.
function alignedCopy(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

function toFloat16Bytes(values: Float32Array, name: string): Uint8Array {
  const bytes = new Uint8Array(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (Math.abs(value) > FLOAT16_MAX && Number.isFinite(value)) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_TENSOR_DATA',
        `tensor '${name}' cannot be sent as float16: ` +
          `expected values within ±${FLOAT16_MAX}, got ${value} at index ${i}`,
      );
    }
    const bits = float32ToFloat16Bits(value);
    bytes[2 * i] = bits & 0xff;
    bytes[2 * i + 1] = bits >>> 8;
  }
  return bytes;
}

function fromFloat16Bytes(bytes: Uint8Array, count: number): Float32Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = float16BitsToFloat32(bytes[2 * i] | (bytes[2 * i + 1] << 8));
  return values;
}

function requireConsistent(tensor: NamedTensor): void {
  const [expected, matches] = tensor.dtype === 'float32' ? ['Float32Array', isFloat32Array(tensor.data)] : ['Int32Array', isInt32Array(tensor.data)];
  if (!matches) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_DTYPE',
      `tensor '${tensor.name}' is ${tensor.dtype}: expected a ${expected}, got a ${tensor.data.constructor.name}`,
    );
  }
  const count = elementCount(tensor.shape);
  if (tensor.data.length !== count) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_DATA',
      `tensor '${tensor.name}' has shape [${tensor.shape.join(',')}]: ` +
        `expected ${count} values, got ${tensor.data.length}`,
    );
  }
}

function requireFloat32(tensor: NamedTensor, encoding: TensorEncoding): Float32Array {
  if (!isFloat32Array(tensor.data)) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_DTYPE',
      `tensor '${tensor.name}' cannot be sent as ${encoding}: expected float32, got ${tensor.dtype}`,
    );
  }
  return tensor.data;
}

function requireFinite(values: Float32Array, name: string, encoding: TensorEncoding): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new FedtlError(
        'FEDTL_ERR_NON_FINITE',
        `tensor '${name}' cannot be sent as ${encoding}: expected finite values, got ${values[i]} at index ${i}`,
      );
    }
  }
}

function requireFloat32Dtype(wire: WireTensor): void {
  if (wire.dtype !== 'float32') {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_DTYPE',
      `tensor '${wire.name}' is ${wire.encoding}-encoded: expected dtype float32, got ${wire.dtype}`,
    );
  }
}

function requireByteLength(wire: WireTensor, count: number): void {
  const bytesPerValue = BYTES_PER_VALUE[wire.encoding as Exclude<TensorEncoding, 'sparse'>];
  const expected = count * bytesPerValue;
  if (wire.data.byteLength !== expected) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_DATA',
      `tensor '${wire.name}' [${wire.shape.join(',')}] ${wire.dtype} ${wire.encoding}: ` +
        `expected ${expected} bytes (${count} values × ${bytesPerValue}), got ${wire.data.byteLength}`,
    );
  }
}

function requireQuantization(wire: WireTensor): void {
  const { scale, zeroPoint } = wire;
  const scaleOk = Number.isFinite(scale) && scale > 0;
  const zeroPointOk = Number.isInteger(zeroPoint) && zeroPoint >= INT8_MIN && zeroPoint <= INT8_MAX;
  if (!scaleOk || !zeroPointOk) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_TENSOR_DATA',
      `tensor '${wire.name}' is int8-encoded: expected a finite scale > 0 and an integer zero point in ` +
        `[${INT8_MIN}, ${INT8_MAX}], got scale ${scale} and zero point ${zeroPoint}`,
    );
  }
}
