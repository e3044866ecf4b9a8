// The client under secure aggregation against a real coordinator process (apps/coordinator, --secure-aggregation):
// every round completes with masked inputs only.
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
});
