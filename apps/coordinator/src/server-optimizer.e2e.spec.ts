// FedAvgM through the real coordinator and client processes: every round's checkpoint equals server momentum
// applied to the audited updates, and a restarted coordinator resumes the momentum from its checkpoint.
import { rm, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initialWeights } from '@fedtl/model';
import type { NamedTensor, Update } from '@fedtl/protocol';
import { useTestSandbox, writeSyntheticFeatureFiles } from '@fedtl/util/testing';
import { decodeCheckpoint } from './checkpoint-store';
import { FEATURE_DIM, maxAbsDifference, readAuditedUpdates, startClientProcess, startCoordinatorProcess, HARNESS_SPEC } from './testing/federation-harness';

const SPEC = HARNESS_SPEC;
const SEED = 11;
const MOMENTUM = 0.8;
const SERVER_LR = 0.5;
const FEDAVGM = ['--strategy', 'fedavgm', '--server-momentum', String(MOMENTUM), '--server-learning-rate', String(SERVER_LR)];

/** One FedAvgM round in float64, independent of the library: m ← β·m + Σ nᵢ·δᵢ / Σ nᵢ, x ← x + η·m. */
function referenceFedAvgMRound(global: NamedTensor[], momentum: Map<string, Float64Array>, updates: Update[]): NamedTensor[] {
  const total = updates.reduce((sum, u) => sum + u.numExamples, 0);
  return global.map((tensor) => {
    const m = momentum.get(tensor.name) ?? new Float64Array(tensor.data.length);
    for (let i = 0; i < m.length; i++) {
      let mean = 0;
      for (const update of updates) {
        const delta = update.delta.find((d) => d.name === tensor.name);
        if (!delta) throw new Error(`update from ${update.clientId} lacks ${tensor.name}`);
        mean += (update.numExamples / total) * delta.data[i];
      }
      m[i] = MOMENTUM * m[i] + mean;
    }
    momentum.set(tensor.name, m);
    return { ...tensor, data: Float32Array.from(tensor.data, (value, i) => value + SERVER_LR * m[i]) };
  });
}

function asTensors(momentum: Map<string, Float64Array>, like: NamedTensor[]): NamedTensor[] {
  return like.map((tensor) => ({ ...tensor, data: Float32Array.from(momentum.get(tensor.name) ?? []) }));
}

describe('FedAvgM across separate processes', () => {
  const sandbox = useTestSandbox();

  async function runUntil(outDir: string, files: string[], rounds: number): Promise<void> {
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, [...FEDAVGM, '--rounds', String(rounds), '--min-clients', '3', '--seed', String(SEED)]);
    sandbox.processes.push(coordinator);
    const clients = files.map((file, i) => startClientProcess(url, `client-${i + 1}`, file));
    sandbox.processes.push(...clients);
    expect(await coordinator.exited).toBe(0);
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0, 0]);
  }

  it('checkpoints the momentum with the weights and resumes it after a restart', async () => {
    const outDir = join(sandbox.dir, 'out');
    const files = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 3, dim: FEATURE_DIM, trainPerClient: [24, 40, 64], testPerClient: 20, seed: 3 });
    await runUntil(outDir, files, 2);
    // A second coordinator on the same directory continues to round 3 from the round-2 checkpoint.
    await rm(join(outDir, 'ready.json'));
    await runUntil(outDir, files, 3);
    expect(JSON.parse(await readFile(join(outDir, 'summary.json'), 'utf8'))).toMatchObject({ roundsCompleted: 3, resumedFrom: 2 });

    let previous = initialWeights(SPEC, SEED);
    const momentum = new Map<string, Float64Array>();
    for (let round = 1; round <= 3; round++) {
      const updates = await readAuditedUpdates(outDir, round);
      expect(updates.map((u) => u.clientId)).toEqual(['client-1', 'client-2', 'client-3']);
      const expected = referenceFedAvgMRound(previous, momentum, updates);
      const path = join(outDir, 'checkpoints', `round-${String(round).padStart(6, '0')}.ckpt`);
      const checkpoint = decodeCheckpoint(await readFile(path), path);
      expect([round, maxAbsDifference(checkpoint.weights, expected) < 1e-6]).toEqual([round, true]);
      expect(Object.keys(checkpoint.strategyState.tensors)).toEqual(['momentum']);
      const saved = checkpoint.strategyState.tensors.momentum;
      expect(saved.map((t) => [t.name, t.shape])).toEqual(checkpoint.weights.map((t) => [t.name, t.shape]));
      expect(maxAbsDifference(saved, asTensors(momentum, checkpoint.weights))).toBeLessThan(1e-6);
      previous = checkpoint.weights;
    }
  }, 180_000);
});
