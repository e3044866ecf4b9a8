// The client over real sockets against a real coordinator process: rounds complete, tensors don't leak,
// and a dropped connection is survived by reconnecting and rejoining under the same identity.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { precomputedBackboneRef, selectedBackend } from '@fedtl/model';
import { configureLogging, type FedtlError } from '@fedtl/util';
import type { RunEnd } from '@fedtl/protocol';
import { TcpProxy, spawnTs, useTestSandbox, waitFor, waitUntil, type TsProcess } from '@fedtl/util/testing';
import { FederatedClient } from './federated-client';
import type { FeatureSplit, LocalData } from './local-data';

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

describe('FederatedClient', () => {
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

  function startClient(port: number, clientId: string, shift: number, path = ''): FederatedClient {
    const client = new FederatedClient({
      url: `http://127.0.0.1:${port}${path}`,
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

  it('takes part in every round without leaking tensors, and survives a dropped connection', async () => {
    const { port, process: coordinatorProcess } = await startCoordinator(4);
    const proxy = await TcpProxy.start(port);
    sandbox.defer(() => proxy.close());
    const flaky = startClient(proxy.port, 'flaky', 0.2);
    const steady = startClient(port, 'steady', -0.2);
    const evaluatedRounds: number[] = [];
    steady.on('evaluated', (round) => evaluatedRounds.push(round));
    let welcomes = 0;
    flaky.on('welcome', () => welcomes++);

    await waitUntil(() => evaluatedRounds.length >= 1, 60_000, 'round 1 to be evaluated');
    expect(proxy.dropConnections()).toBeGreaterThan(0);
    await Promise.all([waitFor(steady, 'finished', 90_000), waitFor(flaky, 'finished', 90_000)]);

    expect(await coordinatorProcess.exited).toBe(0);
    expect(evaluatedRounds).toEqual([1, 2, 3, 4]);
    expect(welcomes).toBeGreaterThanOrEqual(2);
    // Each client trains in a thread of its own, idle now: four rounds of training and evaluation left nothing
    // there (the thread holds no tensor between calls). The thread that holds the connections never computed:
    // it never even chose a TF.js backend.
    expect(await Promise.all([flaky.trainingThreadTensors(), steady.trainingThreadTensors()])).toEqual([0, 0]);
    expect(selectedBackend()).toBeUndefined();
    expect(tf.memory().numTensors).toBe(0);
    const records = (await readFile(join(sandbox.dir, 'out', 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const last = records[records.length - 1];
    expect(last.round).toBe(4);
    expect(last.accepted).toEqual(['flaky', 'steady']);
  }, 120_000);

  it('ends at once with FEDTL_ERR_BAD_CONFIG for a URL with a path (a Socket.IO namespace the coordinator lacks)', async () => {
    const { port } = await startCoordinator(1);
    const client = startClient(port, 'pasted-dashboard-url', 0, '/api/status');

    const [error] = await waitFor<[FedtlError]>(client, 'failed', 30_000);
    expect(error.code).toBe('FEDTL_ERR_BAD_CONFIG');
    expect(error.message).toBe(`--coordinator: expected a URL without a path, such as http://127.0.0.1:${port}, got http://127.0.0.1:${port}/api/status`);
  }, 60_000);

  it('carries the verdict in its finished event, also to a client that joins after the run is over', async () => {
    // The dashboard lingers after the run: a late client reaches a coordinator whose run has a verdict.
    const { port } = await startCoordinator(1, ['--linger-ms', '60000']);
    const clients = [startClient(port, 'first', 0.2), startClient(port, 'second', -0.2)];
    const verdicts = await Promise.all(clients.map((c) => waitFor<[RunEnd]>(c, 'finished', 90_000)));
    expect(verdicts.map(([v]) => [v.status, v.roundsCompleted])).toEqual([['finished', 1], ['finished', 1]]);

    const late = startClient(port, 'late', 0);
    let refused = false;
    late.on('refused', () => (refused = true));
    const [lateVerdict] = await waitFor<[RunEnd]>(late, 'finished', 30_000);
    expect([lateVerdict.status, lateVerdict.roundsCompleted, refused]).toEqual(['finished', 1, false]);
  }, 120_000);
});
