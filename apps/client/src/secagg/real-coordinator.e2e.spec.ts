// The client under secure aggregation against a real coordinator process (apps/coordinator, --secure-aggregation):
// every round completes with masked inputs only, also under client-level differential privacy.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configureLogging } from '@fedtl/util';
import type { RunEnd } from '@fedtl/protocol';
import { useTestSandbox, waitFor } from '@fedtl/util/testing';
import { FederatedClient } from '../federated-client';
import { startFixtureClient, startFixtureCoordinator } from '../testing/client-fixtures';

describe('FederatedClient with a real coordinator under secure aggregation', () => {
  const sandbox = useTestSandbox();

  beforeAll(async () => {
    configureLogging({ level: 'error' });
  });

  const startCoordinator = (rounds: number, extra: string[] = []) => startFixtureCoordinator(sandbox, rounds, extra);

  const startClient = (port: number, clientId: string, shift: number, path = ''): FederatedClient => startFixtureClient(sandbox, port, clientId, shift, path);

  it('takes part in secure-aggregation rounds with a real coordinator (--secure-aggregation), sending no update', async () => {
    const { port, process: coordinatorProcess } = await startCoordinator(2, ['--secure-aggregation', '--secagg-threshold', '2']);
    const clients = [startClient(port, 'sa-1', 0.2), startClient(port, 'sa-2', -0.2)];
    const trained: number[] = [];
    for (const c of clients) c.on('trained', (round) => trained.push(round));
    const verdicts = await Promise.all(clients.map((c) => waitFor<[RunEnd]>(c, 'finished', 120_000)));
    expect(verdicts.map(([v]) => [v.status, v.roundsCompleted])).toEqual([['finished', 2], ['finished', 2]]);
    expect(await coordinatorProcess.exited).toBe(0);
    expect(trained.sort()).toEqual([1, 1, 2, 2]);
    const records = (await readFile(join(sandbox.dir, 'out', 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(records[records.length - 1].round).toBe(2);
  }, 180_000);

  it('takes part in DP-FedAvg rounds under secure aggregation with a real coordinator (--dp-update-clip-norm), every round aggregated and charged', async () => {
    // The coordinator's weight bound and cap are 1 under DP-FedAvg, so its terms alone make every weight 1; the
    // client masks with weight 1 of its own accord too (secagg-client.e2e.spec.ts checks that with a cap of 48).
    const { port, process: coordinatorProcess } = await startCoordinator(2, [
      '--secure-aggregation', '--secagg-threshold', '2', '--dp-update-clip-norm', '0.5', '--dp-update-noise-multiplier', '0.8',
    ]);
    const clients = [startClient(port, 'dp-1', 0.2), startClient(port, 'dp-2', -0.2)];
    const verdicts = await Promise.all(clients.map((c) => waitFor<[RunEnd]>(c, 'finished', 120_000)));
    expect(verdicts.map(([v]) => [v.status, v.roundsCompleted])).toEqual([['finished', 2], ['finished', 2]]);
    expect(await coordinatorProcess.exited).toBe(0);
    const records = (await readFile(join(sandbox.dir, 'out', 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(records.map((r) => [r.round, r.status, r.accepted, r.failures])).toEqual([
      [1, 'aggregated', ['dp-1', 'dp-2'], []],
      [2, 'aggregated', ['dp-1', 'dp-2'], []],
    ]);
    expect(records[1].privacy.spent).toEqual([expect.objectContaining({ unit: 'client', events: 2 })]);
    expect(await Promise.all(clients.map((c) => c.trainingThreadTensors()))).toEqual([0, 0]);
  }, 180_000);
});
