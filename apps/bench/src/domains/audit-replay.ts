// The global weights after every round of a finished federated run, rebuilt from the updates the coordinator
// accepted (its --audit-dir) with the library's own FedAvg arithmetic: start from the initial weights, add the
// example-weighted mean delta each round. The coordinator keeps only its last few checkpoints; this gives the
// per-round curve of a model no client evaluates (leave-one-out's held-out domain). The caller checks the last
// one against the final checkpoint.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeUpdate, type NamedTensor } from '@fedtl/protocol';
import { applyDelta, weightedMean } from '@fedtl/strategies';

export async function replayGlobals(initial: readonly NamedTensor[], auditDir: string, rounds: number): Promise<NamedTensor[][]> {
  const globals: NamedTensor[][] = [];
  let global: readonly NamedTensor[] = initial;
  for (let round = 1; round <= rounds; round++) {
    const dir = join(auditDir, `round-${String(round).padStart(6, '0')}`);
    const names = (await readdir(dir)).filter((name) => name.endsWith('.update.pb')).sort();
    const updates = await Promise.all(names.map(async (name) => decodeUpdate(await readFile(join(dir, name)))));
    global = applyDelta(global, weightedMean(updates.map((u) => u.delta), updates.map((u) => u.numExamples)));
    globals.push(global as NamedTensor[]);
  }
  return globals;
}

/** Largest absolute difference between two weight lists with the same tensors. */
export function maxAbsDifference(a: readonly NamedTensor[], b: readonly NamedTensor[]): number {
  let max = 0;
  for (const tensor of a) {
    const other = b.find((t) => t.name === tensor.name);
    if (!other || other.data.length !== tensor.data.length) return Infinity;
    for (let i = 0; i < tensor.data.length; i++) max = Math.max(max, Math.abs(tensor.data[i] - other.data[i]));
  }
  return max;
}
