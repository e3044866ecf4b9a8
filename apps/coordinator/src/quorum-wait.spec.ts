// A federation that shrinks below --min-available after its rounds began must end with a verdict, not wait for
// ever: each wait for clients is an attempt with the round deadline, and the attempts run out.
import { join } from 'node:path';
import { decodeRoundPlan, type JoinRequest, type NamedTensor } from '@fedtl/protocol';
import { FedAvg } from '@fedtl/strategies';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { CheckpointStore } from './checkpoint-store';
import type { ClientLink } from './client-registry';
import { Coordinator } from './coordinator';
import { MetricsLog, type RoundRecord } from './metrics-log';
import { TrafficCounter } from './traffic-counter';

const initial: NamedTensor[] = [{ name: 'head/out/bias', shape: [2], dtype: 'float32', data: Float32Array.from([0, 0]) }];

describe('waiting for clients', () => {
  const sandbox = useTestSandbox();
  beforeAll(() => configureLogging({ level: 'silent' }));

  it('fails the run with FEDTL_ERR_QUORUM_NOT_MET when a client leaves mid-run and nobody takes its place', async () => {
    const coordinator = new Coordinator({
      runId: 'run', configHash: 'hash', rounds: 3, minClients: 2, minAvailable: 2, roundTimeoutMs: 50, evalTimeoutMs: 1000,
      maxRoundAttempts: 2, roundRetryDelayMs: 1, maxClients: 10, maxMissedRounds: 5, maxPlanResends: 2, rejoinGraceMs: 0, token: '', seed: 1,
      backbone: { id: 'precomputed', contentHash: 'h', dim: 2 }, model: { inputDim: 2, adapterWidth: 0, head: 'linear', headHidden: 1, labels: ['a', 'b'] },
      training: { localEpochs: 1, batchSize: 8, learningRate: 0.1, optimizer: 'sgd' }, initialWeights: initial, strategy: new FedAvg(),
      store: new CheckpointStore(join(sandbox.dir, 'checkpoints')), metricsLog: new MetricsLog(join(sandbox.dir, 'metrics.jsonl')),
      traffic: new TrafficCounter(), limits: { updateNorm: { maxNorm: 100, action: 'clip' }, maxClientShare: 1, maxDeclaredExamples: 1000 },
    });
    const records: RoundRecord[] = [];
    coordinator.on('round', (record) => records.push(record));
    const links = new Map<string, ClientLink>();
    for (const clientId of ['a', 'b']) {
      const link: ClientLink = {
        sendRoundPlan: async (bytes) => {
          const plan = decodeRoundPlan(bytes);
          setImmediate(() => {
            void coordinator.handleUpdate(clientId, { runId: 'run', round: plan.round, clientId, delta: [{ ...initial[0], data: Float32Array.from([0.1, -0.1]) }], numExamples: 10, metrics: {} }).catch(() => undefined);
            // "b" leaves for good once its round-1 update is in.
            if (clientId === 'b') setImmediate(() => coordinator.handleLeave('b', link));
          });
        },
        sendEvaluateRequest: () => Promise.reject(new Error('this scripted client does not evaluate')),
        sendSecAgg: () => Promise.reject(new Error('this scripted client does not run secure aggregation')),
        sendError: () => undefined,
        disconnect: () => undefined,
      };
      links.set(clientId, link);
      const joinRequest: JoinRequest = { clientId, token: '', protocolVersion: 1, backbone: { id: 'precomputed', contentHash: 'h', dim: 2 }, labels: ['a'], numTrainExamples: 10, numTestExamples: 0 };
      coordinator.handleJoin(link, joinRequest);
    }

    await expect(coordinator.run()).rejects.toMatchObject({
      code: 'FEDTL_ERR_QUORUM_NOT_MET',
      message: 'round 2 found only 1 of the 2 clients it needs connected within --round-timeout-ms (50 ms) on attempt 2 of 2; giving up',
    });
    expect(records.map((r) => [r.round, r.attempt, r.status])).toEqual([[1, 1, 'aggregated'], [2, 1, 'failed'], [2, 2, 'failed']]);
  });
});
