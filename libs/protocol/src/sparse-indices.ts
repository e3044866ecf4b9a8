// The positions of a sparse tensor's entries (tensor.proto `sparse_indices`): unsigned LEB128 varints, the first
// the position itself, each later one the difference from the previous position (at least 1). Gaps rather than
// uint32 positions because top-k entries are spread over the whole tensor: at a fraction f of the values the mean
// gap is 1/f, so at 1% most gaps fit one byte where a uint32 index takes four. Strictly increasing positions are
// the only thing the format can say besides a gap of 0, which is refused: no duplicate or unsorted list survives.
import { FedtlError } from '@fedtl/util';

/** A uint32 needs at most 5 varint bytes; a longer run of continuation bits is malformed, not a bigger number. */
const MAX_VARINT_BYTES = 5;

/**
 * The varint gap coding of strictly increasing positions.
 * @param positions strictly increasing, each in [0, 2^32)
 * @returns the bytes of `sparse_indices`
 * @throws RangeError when the positions are not strictly increasing uint32s (a programmer error)
 */
export function encodeSparseIndices(positions: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(positions.length * MAX_VARINT_BYTES);
  let length = 0;
  let previous = -1;
  for (let i = 0; i < positions.length; i++) {
    const position = positions[i];
    if (!Number.isInteger(position) || position <= previous || position > 0xffffffff) {
      throw new RangeError(`sparse positions must be strictly increasing uint32s: got ${position} after ${previous} at entry ${i}`);
    }
    let gap = i === 0 ? position : position - previous;
    previous = position;
    while (gap >= 0x80) {
      bytes[length++] = (gap & 0x7f) | 0x80;
      gap = Math.floor(gap / 0x80);
    }
    bytes[length++] = gap;
  }
  return bytes.slice(0, length);
}

/**
 * The positions `bytes` encode, checked against what the tensor's header says.
 * @param bytes the `sparse_indices` field
 * @param count `sparse_count`: exactly this many varints, with no byte left over
 * @param denseLength the product of the tensor's shape: every position must be below it
 * @param name the tensor's name, for the error
 * @returns `count` strictly increasing positions, each below `denseLength`
 * @throws FedtlError FEDTL_ERR_BAD_TENSOR_DATA naming the entry and what came: a truncated or over-long varint, a
 *   gap of 0 (a duplicate position), a position at or beyond the dense length, fewer or more varints than `count`
 */
export function decodeSparseIndices(bytes: Uint8Array, count: number, denseLength: number, name: string): Uint32Array {
  const fail = (what: string): never => {
    throw new FedtlError('FEDTL_ERR_BAD_TENSOR_DATA', `tensor '${name}' is sparse with ${count} entries in ${denseLength} values: ${what}`);
  };
  // Each varint takes at least one byte: more entries than bytes cannot decode, and are refused before allocating.
  if (count > bytes.length) fail(`expected at least ${count} index bytes, got ${bytes.length}`);
  const positions = new Uint32Array(count);
  let offset = 0;
  let previous = -1;
  for (let i = 0; i < count; i++) {
    let value = 0;
    let multiplier = 1;
    for (let read = 0; ; read++) {
      if (read === MAX_VARINT_BYTES) fail(`expected index ${i} in at most ${MAX_VARINT_BYTES} varint bytes, got more`);
      if (offset >= bytes.length) fail(`expected ${count} indices, the bytes end inside index ${i}`);
      const byte = bytes[offset++];
      value += (byte & 0x7f) * multiplier;
      multiplier *= 0x80;
      if ((byte & 0x80) === 0) break;
    }
    if (i > 0 && value === 0) fail(`expected index ${i} to differ from the previous one (a gap of at least 1), got a gap of 0 (a duplicate position ${previous})`);
    const position = i === 0 ? value : previous + value;
    if (position >= denseLength) fail(`expected positions below ${denseLength}, got ${position} at index ${i}`);
    positions[i] = position;
    previous = position;
  }
  if (offset !== bytes.length) fail(`expected ${count} indices in ${offset} bytes, got ${bytes.length - offset} bytes more`);
  return positions;
}
