// The coordinator's side of divergence, in process with scripted links: a non-finite aggregate and a round whose
// clients mostly report divergence stop the run with FEDTL_ERR_DIVERGED, and nothing diverged is checkpointed.
import { join } from 'node:path';
import { decodeRoundPlan, type NamedTensor, type JoinRequest } from '@fedtl/protocol';
import { FedAvg } from '@fedtl/strategies';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { CheckpointStore } from './checkpoint-store';
import type { ClientLink } from './client-registry';
import { Coordinator } from './coordinator';
import { MetricsLog } from './metrics-log';
import { TrafficCounter } from './traffic-counter';

const initial: NamedTensor[] = [{ name: 'head/out/bias', shape: [2], dtype: 'float32', data: Float32Array.from([1, 1]) }];
const training = { localEpochs: 1, batchSize: 8, learningRate: 1e30, optimizer: 'sgd' as const };

describe('divergence on the coordinator', () => {
  const sandbox = useTestSandbox();
  beforeAll(() => configureLogging({ level: 'silent' }));

  /** A coordinator whose clients answer each plan with `answer` (called with the client id and the round). */
  function federation(clientIds: string[], answer: (coordinator: Coordinator, clientId: string, round: number) => void, serverLearningRate = 1) {
    const store = new CheckpointStore(join(sandbox.dir, 'checkpoints'));
    const coordinator = new Coordinator({
      runId: 'run', configHash: 'hash', rounds: 2, minClients: clientIds.length, minAvailable: clientIds.length,
      roundTimeoutMs: 30_000, evalTimeoutMs: 30_000, maxRoundAttempts: 2, roundRetryDelayMs: 1, maxClients: 10, maxMissedRounds: 2, maxPlanResends: 2, rejoinGraceMs: 0, token: '', seed: 1,
      backbone: { id: 'precomputed', contentHash: 'h', dim: 2 }, model: { inputDim: 2, adapterWidth: 0, head: 'linear', headHidden: 1, labels: ['a', 'b'] },
      training, initialWeights: initial, strategy: new FedAvg({ serverLearningRate }), store, metricsLog: new MetricsLog(join(sandbox.dir, 'metrics.jsonl')),
      traffic: new TrafficCounter(), limits: { updateNorm: { maxNorm: 100, action: 'clip' }, maxClientShare: 1, maxDeclaredExamples: 1000 },
    });
    for (const clientId of clientIds) {
      const link: ClientLink = {
        sendRoundPlan: async (bytes) => {
          const plan = decodeRoundPlan(bytes);
          setImmediate(() => answer(coordinator, clientId, plan.round));
        },
        sendEvaluateRequest: () => Promise.reject(new Error('this scripted client does not evaluate')),
        sendSecAgg: () => Promise.reject(new Error('this scripted client does not run secure aggregation')),
        sendError: () => undefined,
        disconnect: () => undefined,
      };
      const join: JoinRequest = { clientId, token: '', protocolVersion: 1, backbone: { id: 'precomputed', contentHash: 'h', dim: 2 }, labels: ['a'], numTrainExamples: 10, numTestExamples: 0 };
      coordinator.handleJoin(link, join);
    }
    return { coordinator, store };
  }

  const send = (coordinator: Coordinator, clientId: string, round: number, values: number[]) =>
    coordinator.handleUpdate(clientId, { runId: 'run', round, clientId, delta: [{ ...initial[0], data: Float32Array.from(values) }], numExamples: 10, metrics: {} }).catch(() => undefined);

  it('stops with FEDTL_ERR_DIVERGED naming the learning rate when the aggregate is not finite, and checkpoints nothing of that round', async () => {
    // Each update is within the norm bound; a server step of 1e38 overflows float32.
    const { coordinator, store } = federation(['a', 'b'], (c, id, round) => void send(c, id, round, round === 1 ? [0, 0] : [10, 10]), 1e38);
    const run = coordinator.run();
    await expect(run).rejects.toMatchObject({ code: 'FEDTL_ERR_DIVERGED' });
    await expect(run).rejects.toThrow("round 2's aggregate holds Infinity in 'head/out/bias' at index 0; it was not checkpointed (optimizer sgd, learning rate 1e+30); lower the learning rate");
    expect(await store.rounds()).toEqual([1]);
  });

  it('stops with FEDTL_ERR_DIVERGED when most selected clients report divergence, without retrying the round', async () => {
    const reported: number[] = [];
    const { coordinator, store } = federation(['a', 'b', 'c'], (c, id, round) => {
      reported.push(round);
      if (id === 'c') void send(c, id, round, [0, 0]);
      else c.handleBadMessage(id, 'FEDTL_ERR_DIVERGED', 'the client could not train: training diverged: the local training loss is NaN');
    });
    await expect(coordinator.run()).rejects.toMatchObject({
      code: 'FEDTL_ERR_DIVERGED',
      message: expect.stringContaining("2 of round 1's 3 selected clients (a, b) report that local training diverged (optimizer sgd, learning rate 1e+30)"),
    });
    expect(reported).toHaveLength(3);
    expect(await store.rounds()).toEqual([]);
  });

  it('does not let one client of three stop an honest run by claiming divergence: the round is retried, then fails its quorum', async () => {
    const { coordinator } = federation(['a', 'b', 'c'], (c, id, round) => {
      if (id === 'a') c.handleBadMessage(id, 'FEDTL_ERR_DIVERGED', 'the client could not train: training diverged');
      else void send(c, id, round, [0, 0]);
    });
    await expect(coordinator.run()).rejects.toMatchObject({ code: 'FEDTL_ERR_QUORUM_NOT_MET' });
  });
});
