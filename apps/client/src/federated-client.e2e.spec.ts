// The client over real sockets against a real coordinator process: rounds complete, tensors don't leak,
// and a dropped connection is survived by reconnecting and rejoining under the same identity.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { initialWeights, selectedBackend } from '@fedtl/model';
import { configureLogging, type FedtlError } from '@fedtl/util';
import { decodeError, encodeAck, encodeJoinReply, encodeRoundPlan, encodeUpdate, type RunEnd } from '@fedtl/protocol';
import { TcpProxy, useTestSandbox, waitFor, waitUntil } from '@fedtl/util/testing';
import { FederatedClient } from './federated-client';
import { FIXTURE_DIM as DIM, startFixtureClient, startFixtureCoordinator } from './testing/client-fixtures';

describe('FederatedClient', () => {
  const sandbox = useTestSandbox();

  beforeAll(async () => {
    configureLogging({ level: 'error' });
  });

  const startCoordinator = (rounds: number, extra: string[] = []) => startFixtureCoordinator(sandbox, rounds, extra);

  const startClient = (port: number, clientId: string, shift: number, path = ''): FederatedClient => startFixtureClient(sandbox, port, clientId, shift, path);

  it('takes part in every round without leaking tensors, and survives a dropped connection, its updates top-k compressed', async () => {
    // Top-k with error feedback: the flaky client keeps its residual across the reconnection (same run).
    const { port, process: coordinatorProcess } = await startCoordinator(4, ['--compression', 'topk:0.2']);
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
    // What both clients' updates would weigh in float32 (a raw update's size does not depend on its values): top-k
    // of 20% sends about 3 bytes for each kept value against 4 for every value, so each round's updates weigh
    // well under it (~60% with the messages' headers), reconnection or not.
    const model = { inputDim: DIM, adapterWidth: 4, head: 'linear' as const, headHidden: 8, labels: ['no', 'yes'] };
    const rawBytes = (clientId: string) =>
      encodeUpdate({ runId: last.runId, round: 4, clientId, delta: initialWeights(model, 1), numExamples: 1, metrics: { loss: 1, accuracy: 1, seconds: 1 } }).byteLength;
    const float32Round = rawBytes('flaky') + rawBytes('steady');
    for (const record of records.filter((r) => r.status === 'aggregated')) expect([record.round, record.updateBytesUp < 0.8 * float32Round]).toEqual([record.round, true]);
  }, 120_000);

  it('ends at once with FEDTL_ERR_BAD_CONFIG for a URL with a path (a Socket.IO namespace the coordinator lacks)', async () => {
    const { port } = await startCoordinator(1);
    const client = startClient(port, 'pasted-dashboard-url', 0, '/api/status');

    const [error] = await waitFor<[FedtlError]>(client, 'failed', 30_000);
    expect(error.code).toBe('FEDTL_ERR_BAD_CONFIG');
    expect(error.message).toBe(`--coordinator: expected a URL without a path, such as http://127.0.0.1:${port}, got http://127.0.0.1:${port}/api/status`);
  }, 60_000);

  it('carries the verdict in its finished event; a client that joins after the run is over fails, naming the run', async () => {
    // The dashboard lingers after the run: a late client reaches a coordinator whose run has a verdict.
    const { port } = await startCoordinator(1, ['--linger-ms', '60000']);
    const clients = [startClient(port, 'first', 0.2), startClient(port, 'second', -0.2)];
    const welcomed = clients.map((c) => waitFor<[{ runId: string }]>(c, 'welcome', 90_000));
    const verdicts = await Promise.all(clients.map((c) => waitFor<[RunEnd]>(c, 'finished', 90_000)));
    expect(verdicts.map(([v]) => [v.status, v.roundsCompleted])).toEqual([['finished', 1], ['finished', 1]]);
    const [[{ runId }]] = await Promise.all(welcomed);

    // That run's success is not the late client's: it never trained, so it must not exit 0.
    const late = startClient(port, 'late', 0);
    const outcomes: string[] = [];
    for (const event of ['finished', 'refused', 'failed'] as const) late.on(event, () => outcomes.push(event));
    const [error] = await waitFor<[FedtlError]>(late, 'failed', 30_000);
    expect(error.code).toBe('FEDTL_ERR_WRONG_RUN');
    expect(error.message).toBe(`the run ${runId} was already over when this client joined (it finished after 1 rounds); start the client when the next run's coordinator is up`);
    expect(outcomes).toEqual(['failed']);
  }, 120_000);

  it('fails with FEDTL_ERR_MESSAGE_TOO_LARGE, naming both sizes, instead of sending an update over the Welcome\'s limit', async () => {
    // A stand-in coordinator with a tiny stated limit: a real one's limit is sized for the model's updates.
    const http = createServer();
    const server = new Server(http, { serveClient: false });
    sandbox.defer(() => new Promise((resolve) => server.close(resolve)));
    const roundFailures: string[] = [];
    const model = { inputDim: DIM, adapterWidth: 4, head: 'linear' as const, headHidden: 8, labels: ['no', 'yes'] };
    server.on('connection', (socket) => {
      socket.on('join', (_payload: Uint8Array, reply: (r: Uint8Array) => void) => {
        reply(encodeJoinReply({ ok: true, welcome: { runId: 'run-1', clientId: 'big', protocolVersion: 1, model, currentRound: 0, maxMessageBytes: 200 } }));
        const config = { localEpochs: 1, batchSize: 16, learningRate: 0.05, optimizer: 'sgd' as const, seed: 1 };
        socket.emit('round-plan', encodeRoundPlan({ runId: 'run-1', round: 1, weights: initialWeights(model, 1), config }), () => undefined);
      });
      socket.on('round-failed', (payload: Uint8Array, reply: (r: Uint8Array) => void) => {
        roundFailures.push(decodeError(payload).code);
        reply(encodeAck({ ok: true }));
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const client = startClient((http.address() as AddressInfo).port, 'big', 0);

    const [error] = await waitFor<[FedtlError]>(client, 'failed', 60_000);
    expect(error.code).toBe('FEDTL_ERR_MESSAGE_TOO_LARGE');
    expect(error.message).toMatch(/^expected an update of at most 200 bytes \(the coordinator's limit\), got \d+ bytes for round 1$/);
    expect(roundFailures).toEqual(['FEDTL_ERR_MESSAGE_TOO_LARGE']);
  }, 90_000);
});
