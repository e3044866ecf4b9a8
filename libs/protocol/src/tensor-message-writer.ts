// Encodes a message that carries tensors (Update, RoundPlan, EvaluateRequest) into one buffer allocated at its
// final size, with one copy of each tensor's data. protobufjs's own encoder grows its buffer by doubling (a copy
// per doubling), moves each nested Tensor forward once its length is known (ldelim: another pass over the data)
// and copies the result out in finish(): four to five passes over a weight set of tens of MB. Here every field
// around the tensors, and each tensor's fields above `data`, are still encoded by the generated code; the tensor's
// first fields and the framing around its data are written here, so that the bytes are protobufjs's own (byte for
// byte with `alignData: false`; the property test in tensor-message-writer.spec.ts holds the two together).
//
// With `alignData` (the default) the length varints in front of a tensor's data may be written with redundant
// continuation bytes (a "padded" varint, e.g. 5 as 0x85 0x80 0x00: the same value, as every protobuf parser reads
// it; protozero and Perfetto write nested lengths the same way), so that the data starts at a multiple of 4 bytes
// from the start of the message. A receiver whose message starts at an aligned address (Node allocates every large
// buffer so) then views float32/int32 data in place instead of copying it (tensor-codec.ts, float32View).
import { fedtl } from './generated/fedtl';

import v1 = fedtl.v1;

/** A message split around its one repeated Tensor field, which is written between `before` and `after`. */
export interface TensorCarrier {
  /** The message's fields numbered below the tensor field, as encoded by the generated code. */
  before: Uint8Array;
  /** The tensor field's number, 1 to 15 (its tag is then one byte). */
  tensorField: number;
  tensors: readonly v1.Tensor.$Properties[];
  /** The message's fields numbered above the tensor field, as encoded by the generated code. */
  after: Uint8Array;
}

export interface TensorMessageOptions {
  /** Pad length varints so that each tensor's data starts at a multiple of 4 bytes (default true). */
  alignData?: boolean;
}

/** The Tensor's field tags (number << 3 | wire type): the generated encoder writes fields in number order. */
const NAME_TAG = (1 << 3) | 2;
const SHAPE_TAG = (2 << 3) | 2;
const DTYPE_TAG = 3 << 3;
const ENCODING_TAG = 4 << 3;
const DATA_TAG = (5 << 3) | 2;
const UTF8 = new TextEncoder();
/** The longest varint protobufjs reads as a uint32 (and as a length): 5 bytes, 7 bits each. */
const MAX_VARINT32_BYTES = 5;
const ALIGNMENT = 4;
const EMPTY = new Uint8Array(0);

/**
 * The message as protobuf bytes: `before`, each tensor as field `tensorField`, then `after`. The result is a
 * Node Buffer where Buffer exists (as protobufjs's `finish()` returns), allocated once at its final size.
 * @throws RangeError when `tensorField` is not in [1, 15].
 */
export function writeTensorMessage(message: TensorCarrier, options: TensorMessageOptions = {}): Uint8Array {
  if (!Number.isInteger(message.tensorField) || message.tensorField < 1 || message.tensorField > 15) {
    throw new RangeError(`writeTensorMessage: expected a tensor field number in [1, 15], got ${message.tensorField}`);
  }
  const tensorTag = (message.tensorField << 3) | 2;
  const align = options.alignData ?? true;
  const parts = message.tensors.map(tensorParts);

  // First pass: sizes and paddings, each tensor placed after the ones before it.
  let position = message.before.length;
  for (const part of parts) {
    if (align && part.data.length > 0) choosePadding(part, position);
    position += 1 + varintSize(part.contentLength + part.shapePad + part.dataPad) + part.contentLength + part.shapePad + part.dataPad;
  }
  const total = position + message.after.length;

  // Second pass: one buffer, each byte written once.
  const out = allocate(total);
  out.set(message.before, 0);
  position = message.before.length;
  for (const part of parts) {
    out[position++] = tensorTag;
    position = writeVarint(out, position, part.contentLength + part.shapePad + part.dataPad, 0);
    out.set(part.name, position);
    position += part.name.length;
    if (part.shape.length > 0) {
      out[position++] = SHAPE_TAG;
      position = writeVarint(out, position, part.shape.length, part.shapePad);
      out.set(part.shape, position);
      position += part.shape.length;
    }
    out.set(part.kinds, position);
    position += part.kinds.length;
    if (part.data.length > 0) {
      out[position++] = DATA_TAG;
      position = writeVarint(out, position, part.data.length, part.dataPad);
      out.set(part.data, position);
      position += part.data.length;
    }
    out.set(part.rest, position);
    position += part.rest.length;
  }
  out.set(message.after, position);
  return out;
}

/** One Tensor message in pieces; the data is referenced, not copied. */
interface TensorParts {
  /** Field 1 (name), encoded. */
  name: Uint8Array;
  /** The packed dims of field 2 (shape), without tag and length. */
  shape: Uint8Array;
  /** Fields 3 and 4 (dtype, encoding), encoded. */
  kinds: Uint8Array;
  data: Uint8Array;
  /** Every field numbered above `data` (scale, zero point, and any later one), encoded. */
  rest: Uint8Array;
  /** The Tensor's encoded length without padding. */
  contentLength: number;
  /** Redundant bytes in the shape's and the data's length varints. */
  shapePad: number;
  dataPad: number;
}

// Fields 1-4 are written here, as the generated code writes them (a string, packed uint32s, two enums, each left out
// when it has its default value): that is a few bytes, but the generated code's allocations cost more than the
// memcpy of a 100k-float tensor in a process where V8 has not optimised them yet (a client encodes one Update a round).
function tensorParts(tensor: v1.Tensor.$Properties): TensorParts {
  const name = tensor.name ? lengthDelimited(NAME_TAG, UTF8.encode(tensor.name)) : EMPTY;
  const shape = packedVarints(tensor.shape ?? []);
  const kinds = enumFields(tensor.dtype ?? 0, tensor.encoding ?? 0);
  const data = tensor.data ?? EMPTY;
  const rest = v1.Tensor.encode({ ...tensor, name: '', shape: [], dtype: 0, encoding: 0, data: EMPTY }).finish();
  const contentLength =
    name.length +
    (shape.length > 0 ? 1 + varintSize(shape.length) + shape.length : 0) +
    kinds.length +
    (data.length > 0 ? 1 + varintSize(data.length) + data.length : 0) +
    rest.length;
  return { name, shape, kinds, data, rest, contentLength, shapePad: 0, dataPad: 0 };
}

/**
 * Sets the paddings so that the data of a tensor whose field tag is at `position` starts at a multiple of 4.
 * Padding goes into the data's length varint first, then the shape's; when neither has room left (a length
 * varint is at most 5 bytes), the tensor stays unaligned and its receiver copies it.
 */
function choosePadding(part: TensorParts, position: number): void {
  const dataRoom = MAX_VARINT32_BYTES - varintSize(part.data.length);
  const shapeRoom = part.shape.length > 0 ? MAX_VARINT32_BYTES - varintSize(part.shape.length) : 0;
  for (let pad = 0; pad <= dataRoom + shapeRoom; pad++) {
    const contentLength = part.contentLength + pad;
    const dataStart = position + 1 + varintSize(contentLength) + part.contentLength - part.data.length - part.rest.length + pad;
    if (dataStart % ALIGNMENT === 0) {
      part.dataPad = Math.min(pad, dataRoom);
      part.shapePad = pad - part.dataPad;
      return;
    }
  }
}

function varintSize(value: number): number {
  let size = 1;
  while (value > 127) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function lengthDelimited(tag: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + varintSize(bytes.length) + bytes.length);
  out[0] = tag;
  out.set(bytes, writeVarint(out, 1, bytes.length, 0));
  return out;
}

/** The varints of `values` one after the other: the body of a packed repeated uint32 field. */
function packedVarints(values: readonly number[]): Uint8Array {
  if (values.length === 0) return EMPTY;
  const out = new Uint8Array(values.reduce((size, value) => size + varintSize(value), 0));
  let position = 0;
  for (const value of values) position = writeVarint(out, position, value, 0);
  return out;
}

/** Fields 3 (dtype) and 4 (encoding); enum values are small and non-negative, each one varint byte or more. */
function enumFields(dtype: number, encoding: number): Uint8Array {
  if (dtype < 0 || encoding < 0) return v1.Tensor.encode({ dtype, encoding }).finish();
  const out = new Uint8Array((dtype ? 1 + varintSize(dtype) : 0) + (encoding ? 1 + varintSize(encoding) : 0));
  let position = 0;
  if (dtype) {
    out[position++] = DTYPE_TAG;
    position = writeVarint(out, position, dtype, 0);
  }
  if (encoding) {
    out[position++] = ENCODING_TAG;
    writeVarint(out, position, encoding, 0);
  }
  return out;
}

/** Writes `value` as a varint of its minimal length plus `pad` redundant bytes; returns the position after it. */
function writeVarint(out: Uint8Array, position: number, value: number, pad: number): number {
  const length = varintSize(value) + pad;
  for (let i = 0; i < length - 1; i++) {
    out[position++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[position++] = value;
  return position;
}

// A Buffer (uninitialised: every byte is written) where Node provides one, as protobufjs returns; a Uint8Array
// elsewhere.
function allocate(size: number): Uint8Array {
  return typeof Buffer === 'function' ? Buffer.allocUnsafe(size) : new Uint8Array(size);
}
