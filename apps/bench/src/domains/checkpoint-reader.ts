// Reads the global weights out of a coordinator checkpoint (OUT/checkpoints/round-NNNNNN.ckpt), in the format
// of @fedtl/protocol's checkpoint-file.ts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeCheckpointFile, type NamedTensor } from '@fedtl/protocol';

export function checkpointPath(runDir: string, round: number): string {
  return join(runDir, 'checkpoints', `round-${String(round).padStart(6, '0')}.ckpt`);
}

/** The tensors of group "weights" (the global adapter and head), checksum verified. */
export async function readCheckpointWeights(path: string): Promise<NamedTensor[]> {
  return decodeCheckpointFile(await readFile(path), path).groups.weights ?? [];
}
