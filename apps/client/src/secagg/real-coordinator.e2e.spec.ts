// The client under secure aggregation against a real coordinator process (apps/coordinator, --secure-aggregation):
// every round completes with masked inputs only.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { precomputedBackboneRef } from '@fedtl/model';
import { configureLogging } from '@fedtl/util';
import type { RunEnd } from '@fedtl/protocol';
import { spawnTs, useTestSandbox, waitFor, waitUntil, type TsProcess } from '@fedtl/util/testing';
import { FederatedClient } from '../federated-client';
import type { FeatureSplit, LocalData } from '../local-data';

const DIM = 8;

function split(n: number, shift: number): FeatureSplit {
  const features = new Float32Array(n * DIM);
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const positive = i % 2 === 0;
    for (let j = 0; j < DIM; j++) features[i * DIM + j] = (positive ? 1.5 : -1.5) * (j < 2 ? 1 : 0) + shift + Math.sin(i * 7 + j);
    labels.push(positive ? 'yes' : 'no');
  }
  return { features, labels };
}

const localData = (shift: number): LocalData => ({
  backbone: precomputedBackboneRef(DIM),
  train: split(48, shift),
  test: split(24, shift),
  labelSet: ['no', 'yes'],
});

describe('FederatedClient with a real coordinator under secure aggregation', () => {
  const sandbox = useTestSandbox();

  beforeAll(async () => {
    configureLogging({ level: 'error' });
  });

  async function startCoordinator(rounds: number, extra: string[] = []): Promise<{ port: number; process: TsProcess }> {
    const readyFile = join(sandbox.dir, 'ready.json');
    const process = spawnTs('apps/coordinator/src/main.ts', [
      '--port', '0', '--ready-file', readyFile, '--out-dir', join(sandbox.dir, 'out'), '--rounds', String(rounds),
      '--min-clients', '2', '--backbone', `precomputed:${DIM}`, '--labels', 'no,yes', '--adapter-width', '4',
      '--local-epochs', '2', '--batch-size', '16', '--learning-rate', '0.05', '--rejoin-grace-ms', '20000', '--log-level', 'warn', ...extra,
    ]);
    sandbox.processes.push(process);
    await waitUntil(() => existsSync(readyFile), 60_000, 'the coordinator to listen');
    return { port: Number(new URL(JSON.parse(await readFile(readyFile, 'utf8')).url).port), process };
  }

  function startClient(port: number, clientId: string, shift: number): FederatedClient {
    const client = new FederatedClient({
      url: `http://127.0.0.1:${port}`,
      clientId,
      token: '',
      data: localData(shift),
      backend: 'cpu',
      ackTimeoutMs: 20_000,
      localBaselineEpochs: 0,
      seed: 1,
      reconnectDelayMs: 100,
      reconnectDelayMaxMs: 500,
    });
    sandbox.defer(() => client.close());
    client.start();
    return client;
  }

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
