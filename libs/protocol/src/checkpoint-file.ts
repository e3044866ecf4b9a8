// The on-disk checkpoint format, shared by whoever writes checkpoints (the coordinator) and whoever reads
// them (the coordinator on resume, the benchmarks): named groups of tensors plus a JSON header of metadata.
//
// Layout (little-endian): "FEDTLCK1" | u32 header length | header JSON | tensor bytes | sha256 of all before.
// The trailing checksum catches a truncated or damaged file.
import { createHash } from 'node:crypto';
import { FedtlError } from '@fedtl/util';
import type { NamedTensor } from './domain';

const MAGIC = Buffer.from('FEDTLCK1', 'ascii');
const CHECKSUM_BYTES = 32;

export interface CheckpointFile {
  /** Plain JSON metadata (run id, round, config hash…). */
  meta: Record<string, unknown>;
  /** Tensors by group, e.g. `weights` and a strategy's `state:momentum`; order kept within a group. */
  groups: Record<string, NamedTensor[]>;
}

interface HeaderTensor {
  group: string;
  name: string;
  shape: number[];
  dtype: NamedTensor['dtype'];
  byteLength: number;
}

export function encodeCheckpointFile(file: CheckpointFile): Buffer {
  const all = Object.entries(file.groups).flatMap(([group, tensors]) => tensors.map((tensor) => ({ group, tensor })));
  const tensors: HeaderTensor[] = all.map(({ group, tensor: t }) => ({ group, name: t.name, shape: t.shape, dtype: t.dtype, byteLength: t.data.byteLength }));
  const headerBytes = Buffer.from(JSON.stringify({ ...file.meta, tensors }), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.length);
  const body = Buffer.concat([
    MAGIC,
    length,
    headerBytes,
    ...all.map(({ tensor: t }) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
  ]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** Decodes and verifies a checkpoint; `source` (a path) names it in errors. */
export function decodeCheckpointFile(bytes: Buffer, source = 'checkpoint'): CheckpointFile {
  const corrupt = (why: string) => new FedtlError('FEDTL_ERR_CHECKPOINT_CORRUPT', `${source}: ${why}`);
  if (bytes.length < MAGIC.length + 4 + CHECKSUM_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw corrupt(`expected a fedtl checkpoint starting with "FEDTLCK1", got ${bytes.length} bytes of something else`);
  }
  const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES);
  const expected = bytes.subarray(bytes.length - CHECKSUM_BYTES);
  if (!createHash('sha256').update(body).digest().equals(expected)) throw corrupt('checksum mismatch (truncated or damaged file)');
  const headerLength = body.readUInt32LE(MAGIC.length);
  const headerStart = MAGIC.length + 4;
  const { tensors, ...meta } = JSON.parse(body.subarray(headerStart, headerStart + headerLength).toString('utf8')) as { tensors: HeaderTensor[] };
  let offset = headerStart + headerLength;
  const groups: Record<string, NamedTensor[]> = {};
  for (const t of tensors) {
    // Copy into a fresh, aligned buffer: typed arrays need 4-byte alignment and the file buffer has none.
    const chunk = new Uint8Array(body.subarray(offset, offset + t.byteLength));
    offset += t.byteLength;
    const data = t.dtype === 'int32' ? new Int32Array(chunk.buffer) : new Float32Array(chunk.buffer);
    (groups[t.group] ??= []).push({ name: t.name, shape: t.shape, dtype: t.dtype, data });
  }
  if (offset !== body.length) throw corrupt(`expected ${offset} bytes of header and tensors, got ${body.length}`);
  return { meta, groups };
}
