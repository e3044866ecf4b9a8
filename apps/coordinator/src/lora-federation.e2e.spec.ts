// LoRA inside the real use-lite encoder, federated end to end: a coordinator and two client processes that
// train through the encoder from their own SpamAssassin mail on wasm, with a server optimiser (FedAdam), a
// checkpoint every round and a restart that resumes from it. Only LoRA, adapter and head deltas travel.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnFedtl, useTestSandbox } from '@fedtl/util/testing';
import type { RoundRecord } from './metrics-log';
import { readAuditedUpdates, readCheckpointWeights, startCoordinatorProcess } from './testing/federation-harness';

const LORA = ['--lora-rank', '4', '--lora-layers', '1', '--lora-targets', 'query,value'];

describe('federated LoRA inside the use-lite encoder', () => {
  const sandbox = useTestSandbox();

  async function runUntil(outDir: string, rounds: number, extra: { coordinator?: string[]; client?: string[]; audit?: boolean } = {}): Promise<void> {
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, [
      '--backbone', 'use-lite', '--labels', 'ham,spam', '--adapter-width', '0', '--rounds', String(rounds), '--min-clients', '2',
      '--local-epochs', '3', '--batch-size', '8', '--learning-rate', '0.01', '--optimizer', 'adam', ...LORA,
      ...(extra.coordinator ?? ['--strategy', 'fedadam', '--server-learning-rate', '0.03']),
    ], { audit: extra.audit ?? true });
    sandbox.processes.push(coordinator);
    const clients = [1, 2].map((k) =>
      spawnFedtl([
        'client', '--coordinator', url, '--client-id', `org-${k}`, '--demo-mailbox', String(k), '--demo-per-organisation', '40',
        '--cache-dir', join(sandbox.dir, `cache-${k}`), '--embed-threads', '1', '--backend', 'wasm', '--log-level', 'warn',
        ...(extra.client ?? []),
      ]),
    );
    sandbox.processes.push(...clients);
    expect(await coordinator.exited).toBe(0);
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0]);
  }

  it('trains LoRA pairs with FedAdam, checkpoints them and resumes after a restart', async () => {
    const outDir = join(sandbox.dir, 'out');
    await runUntil(outDir, 1);
    await rm(join(outDir, 'ready.json'));
    await runUntil(outDir, 2);
    expect(JSON.parse(await readFile(join(outDir, 'summary.json'), 'utf8'))).toMatchObject({ roundsCompleted: 2, resumedFrom: 1 });

    const expectedTensors = [
      ['lora/layer_1/query/a', [512, 4]],
      ['lora/layer_1/query/b', [4, 512]],
      ['lora/layer_1/value/a', [512, 4]],
      ['lora/layer_1/value/b', [4, 512]],
      ['head/out/kernel', [512, 2]],
      ['head/out/bias', [2]],
    ];
    for (const round of [1, 2]) {
      const updates = await readAuditedUpdates(outDir, round);
      expect(updates.map((u) => u.clientId).sort()).toEqual(['org-1', 'org-2']);
      for (const update of updates) {
        expect(update.delta.map((t) => [t.name, t.shape])).toEqual(expectedTensors);
        // B starts at zero: a nonzero delta there is training that went back through the encoder.
        expect(update.delta.find((t) => t.name === 'lora/layer_1/value/b')?.data.some((v) => v !== 0)).toBe(true);
      }
    }
    const final = await readCheckpointWeights(outDir, 2);
    expect(final.map((t) => [t.name, t.shape])).toEqual(expectedTensors);

    const records: RoundRecord[] = (await readFile(join(outDir, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const last = records[records.length - 1];
    expect(last).toMatchObject({ round: 2, status: 'aggregated' });
    expect(last.evaluation.accuracy).toBeGreaterThanOrEqual(0.7);
  }, 300_000);

  it('aggregates LoRA pairs under secure aggregation', async () => {
    const outDir = join(sandbox.dir, 'secure');
    await runUntil(outDir, 1, { coordinator: ['--secure-aggregation'], client: ['--require-secure-aggregation'], audit: false });
    const weights = await readCheckpointWeights(outDir, 1);
    expect(weights.map((t) => t.name)).toEqual(['lora/layer_1/query/a', 'lora/layer_1/query/b', 'lora/layer_1/value/a', 'lora/layer_1/value/b', 'head/out/kernel', 'head/out/bias']);
    expect(weights.find((t) => t.name === 'lora/layer_1/query/b')?.data.some((v) => v !== 0)).toBe(true);
  }, 300_000);
});
