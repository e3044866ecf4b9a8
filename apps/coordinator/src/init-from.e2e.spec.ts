// Cross-task transfer end to end: a federation learns labels a,b; a second federation on a 3-label task starts
// with --init-from the first run's out-dir, from its final adapter and a fresh head, and finishes.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initialWeights } from '@fedtl/model';
import { useTestSandbox, writeSyntheticFeatureFiles } from '@fedtl/util/testing';
import type { RoundRecord } from './metrics-log';
import {
  FEATURE_DIM,
  maxAbsDifference,
  readAuditedUpdates,
  readCheckpointWeights,
  referenceFedAvg,
  startClientProcess,
  startCoordinatorProcess,
  HARNESS_SPEC,
} from './testing/federation-harness';

const TASK_2 = { ...HARNESS_SPEC, labels: ['a', 'b', 'c'] };

describe('--init-from across tasks', () => {
  const sandbox = useTestSandbox();

  async function federate(outDir: string, labels: string[], args: string[]): Promise<void> {
    const dataDir = join(sandbox.dir, `data-${labels.length}`);
    await mkdir(dataDir, { recursive: true });
    const files = await writeSyntheticFeatureFiles(dataDir, { clients: 3, dim: FEATURE_DIM, trainPerClient: 30, testPerClient: 30, labels, seed: labels.length });
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, ['--labels', labels.join(','), '--rounds', '2', '--min-clients', '3', '--seed', '11', ...args]);
    sandbox.processes.push(coordinator);
    const clients = files.map((file, i) => startClientProcess(url, `client-${i + 1}`, file));
    sandbox.processes.push(...clients);
    expect(await coordinator.exited).toBe(0);
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0, 0]);
  }

  it('starts run 2 (labels a,b,c) from run 1’s (labels a,b) final adapter with a fresh head, and finishes', async () => {
    const run1 = join(sandbox.dir, 'run1');
    const run2 = join(sandbox.dir, 'run2');
    await federate(run1, ['a', 'b'], []);
    await federate(run2, ['a', 'b', 'c'], ['--init-from', run1]);

    // Round 0 of run 2: run 1's final adapter, byte for byte, and this run's own fresh 3-label head.
    const run1Final = await readCheckpointWeights(run1, 2);
    const fresh = initialWeights(TASK_2, 11);
    const round0 = fresh.map((tensor) => (tensor.name.startsWith('adapter/') ? run1Final.find((t) => t.name === tensor.name) ?? tensor : tensor));
    expect(round0.filter((t) => t.name.startsWith('adapter/')).map((t) => t.name)).toHaveLength(4);
    expect(maxAbsDifference(round0.filter((t) => t.name.startsWith('adapter/')), initialWeights(TASK_2, 11))).toBeGreaterThan(0.01);
    // The checkpoint of run 2's round 1 is FedAvg of its clients' updates applied to exactly that round 0.
    const updates = await readAuditedUpdates(run2, 1);
    expect(updates.map((u) => u.clientId)).toEqual(['client-1', 'client-2', 'client-3']);
    expect(updates[0].delta.find((t) => t.name === 'head/out/kernel')?.shape).toEqual([FEATURE_DIM, 3]);
    expect(maxAbsDifference(await readCheckpointWeights(run2, 1), referenceFedAvg(round0, updates))).toBeLessThan(1e-6);
    // Whereas starting from a fresh adapter would not give that checkpoint.
    expect(maxAbsDifference(await readCheckpointWeights(run2, 1), referenceFedAvg(fresh, updates))).toBeGreaterThan(0.01);

    const records: RoundRecord[] = (await readFile(join(run2, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(records.map((r) => [r.round, r.status, r.accepted.length])).toEqual([
      [1, 'aggregated', 3],
      [2, 'aggregated', 3],
    ]);
    const summary = JSON.parse(await readFile(join(run2, 'summary.json'), 'utf8'));
    expect(summary.model.labels).toEqual(['a', 'b', 'c']);
    expect(summary.roundsCompleted).toBe(2);
  });
});
