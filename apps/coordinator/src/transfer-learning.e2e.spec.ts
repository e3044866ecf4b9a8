// Real transfer learning end to end: three client processes embed their own SpamAssassin mail (shipped with
// npm) with the frozen use-lite backbone on wasm, train adapter + head, and the federation learns.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnFedtl, useTestSandbox } from '@fedtl/util/testing';
import type { RoundRecord } from './metrics-log';
import { readAuditedUpdates, startCoordinatorProcess } from './testing/federation-harness';

describe('federated transfer learning on the real backbone', () => {
  const sandbox = useTestSandbox();

  it('learns spam vs ham well above chance in 2 rounds, exchanging only adapter and head tensors', async () => {
    const outDir = join(sandbox.dir, 'out');
    const { process: coordinator, url } = await startCoordinatorProcess(outDir, [
      '--backbone', 'use-lite', '--labels', 'ham,spam', '--adapter-width', '16', '--rounds', '2', '--min-clients', '3',
      '--local-epochs', '5', '--batch-size', '16', '--learning-rate', '0.01', '--optimizer', 'adam',
    ]);
    sandbox.processes.push(coordinator);
    const clients = [1, 2, 3].map((k) =>
      spawnFedtl([
        'client', '--coordinator', url, '--client-id', `org-${k}`, '--demo-mailbox', String(k), '--demo-per-organisation', '80',
        '--cache-dir', join(sandbox.dir, `cache-${k}`), '--embed-threads', '1', '--backend', 'wasm', '--log-level', 'warn',
      ]),
    );
    sandbox.processes.push(...clients);
    expect(await coordinator.exited).toBe(0);
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0, 0]);

    const records: RoundRecord[] = (await readFile(join(outDir, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const last = records[records.length - 1];
    expect(last).toMatchObject({ round: 2, status: 'aggregated' });
    // 60 held-out mails in all; the largest class is at most 60% of them (the mailboxes' spam shares are
    // 20%, 50% and 60%), so a model at 0.85 is at least 25 points above always guessing the majority.
    expect(last.evaluation.accuracy).toBeGreaterThanOrEqual(0.85);
    for (const update of await readAuditedUpdates(outDir, 2)) {
      expect(update.delta.every((t) => /^(adapter|head)\//.test(t.name))).toBe(true);
      expect(update.delta.find((t) => t.name === 'adapter/down/kernel')?.shape).toEqual([512, 16]);
    }
  }, 180_000);
});
