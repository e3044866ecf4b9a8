// Reads the global weights out of a coordinator checkpoint (OUT/checkpoints/round-NNNNNN.ckpt). The format is
// the coordinator's (apps/coordinator/src/checkpoint-store.ts): "FEDTLCK1" | u32 LE header length | header JSON |
// tensor bytes | sha256 of everything before. Apps do not import each other, so the bench reads it itself.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NamedTensor } from '@fedtl/protocol';
import { FedtlError } from '@fedtl/util';

const MAGIC = Buffer.from('FEDTLCK1', 'ascii');
const CHECKSUM_BYTES = 32;

interface HeaderTensor {
  group: string;
  name: string;
  shape: number[];
  dtype: NamedTensor['dtype'];
  byteLength: number;
}

export function checkpointPath(runDir: string, round: number): string {
  return join(runDir, 'checkpoints', `round-${String(round).padStart(6, '0')}.ckpt`);
}

/** The tensors of group "weights" (the global adapter and head), checksum verified. */
export async function readCheckpointWeights(path: string): Promise<NamedTensor[]> {
  const bytes = await readFile(path);
  const corrupt = (why: string) => new FedtlError('FEDTL_ERR_CHECKPOINT_CORRUPT', `${path}: ${why}`);
  if (bytes.length < MAGIC.length + 4 + CHECKSUM_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw corrupt('expected a fedtl checkpoint starting with "FEDTLCK1"');
  }
  const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES);
  if (!createHash('sha256').update(body).digest().equals(bytes.subarray(bytes.length - CHECKSUM_BYTES))) throw corrupt('checksum mismatch');
  const headerLength = body.readUInt32LE(MAGIC.length);
  const headerStart = MAGIC.length + 4;
  const header = JSON.parse(body.subarray(headerStart, headerStart + headerLength).toString('utf8')) as { tensors: HeaderTensor[] };
  let offset = headerStart + headerLength;
  const weights: NamedTensor[] = [];
  for (const t of header.tensors) {
    // A fresh copy: typed arrays need aligned buffers and the file's has no alignment.
    const chunk = new Uint8Array(body.subarray(offset, offset + t.byteLength));
    offset += t.byteLength;
    if (t.group !== 'weights') continue;
    const data = t.dtype === 'int32' ? new Int32Array(chunk.buffer) : new Float32Array(chunk.buffer);
    weights.push({ name: t.name, shape: t.shape, dtype: t.dtype, data });
  }
  return weights;
}
