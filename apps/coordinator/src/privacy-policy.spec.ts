// The coordinator's side of the clients' privacy policies: what it refuses at Join (a policy this run can never
// meet), who it stops selecting (a client at its --max-rounds), and what an operator sees.
import { join } from 'node:path';
import { decodeRoundPlan, type JoinRequest, type NamedTensor } from '@fedtl/protocol';
import { PERMISSIVE_POLICY, type PrivacyPolicy } from '@fedtl/privacy';
import { FedAvg } from '@fedtl/strategies';
import { FedtlError, configureLogging } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { CheckpointStore } from './checkpoint-store';
import type { ClientLink } from './client-registry';
import { Coordinator } from './coordinator';
import { RunStatus } from './dashboard/run-status';
import { CoordinatorMetrics } from './dashboard/metrics';
import { MetricsLog, type RoundRecord } from './metrics-log';
import { TrafficCounter } from './traffic-counter';

const initial: NamedTensor[] = [{ name: 'head/out/bias', shape: [2], dtype: 'float32', data: Float32Array.from([0, 0]) }];
const backbone = { id: 'precomputed', contentHash: 'h', dim: 2 };

describe('privacy policies at the coordinator', () => {
  const sandbox = useTestSandbox();
  beforeAll(() => configureLogging({ level: 'silent' }));

  function coordinator(rounds: number): Coordinator {
    return new Coordinator({
      runId: 'run', configHash: 'hash', rounds, minClients: 2, minAvailable: 2, roundTimeoutMs: 5000, evalTimeoutMs: 1000,
      maxRoundAttempts: 1, roundRetryDelayMs: 1, maxClients: 10, maxMissedRounds: 5, maxPlanResends: 2, rejoinGraceMs: 0, token: '', seed: 1,
      backbone, model: { inputDim: 2, adapterWidth: 0, head: 'linear', headHidden: 1, labels: ['a', 'b'] },
      training: { localEpochs: 1, batchSize: 32, learningRate: 0.1, optimizer: 'sgd' }, initialWeights: initial, strategy: new FedAvg(),
      store: new CheckpointStore(join(sandbox.dir, 'checkpoints')), metricsLog: new MetricsLog(join(sandbox.dir, 'metrics.jsonl')),
      traffic: new TrafficCounter(), limits: { updateNorm: { maxNorm: 100, action: 'clip' }, maxClientShare: 1, maxDeclaredExamples: 1000 },
    });
  }

  /** A client that answers every plan with a small update, the way an honest client would. */
  function scriptedClient(c: Coordinator, clientId: string, policy: PrivacyPolicy = PERMISSIVE_POLICY): void {
    const link: ClientLink = {
      sendRoundPlan: async (bytes) => {
        const plan = decodeRoundPlan(bytes);
        setImmediate(() => void c.handleUpdate(clientId, { runId: 'run', round: plan.round, clientId, delta: [{ ...initial[0], data: Float32Array.from([0.1, -0.1]) }], numExamples: 40, metrics: {} }).catch(() => undefined));
      },
      sendEvaluateRequest: () => Promise.reject(new Error('this scripted client does not evaluate')),
      sendSecAgg: () => Promise.reject(new Error('this scripted client does not run secure aggregation')),
      sendError: () => undefined,
      disconnect: () => undefined,
    };
    c.handleJoin(link, joinRequest(clientId, policy));
  }

  function joinRequest(clientId: string, policy: PrivacyPolicy): JoinRequest {
    return { clientId, token: '', protocolVersion: 1, backbone, labels: ['a'], numTrainExamples: 40, numTestExamples: 0, privacyPolicy: policy };
  }

  it('refuses at Join a client whose policy this run can never meet, and shows the refusal to operators', async () => {
    const c = coordinator(1);
    const status = new RunStatus(c, { runId: 'run', backbone, model: { inputDim: 2, adapterWidth: 0, head: 'linear', headHidden: 1, labels: ['a', 'b'] }, roundsPlanned: 1, secureAggregation: false });
    const attempt = (clientId: string, policy: PrivacyPolicy): FedtlError => {
      try {
        c.handleJoin({} as ClientLink, joinRequest(clientId, policy));
      } catch (err) {
        c.noteRefusedJoin(clientId, { code: (err as FedtlError).code, message: (err as FedtlError).message });
        return err as FedtlError;
      }
      throw new Error(`${clientId} was admitted`);
    };
    expect(attempt('batchy', { ...PERMISSIVE_POLICY, minBatchSize: 64 }).message).toBe(
      'client "batchy" accepts plans with a batch size of at least 64 (--min-batch-size); this run\'s batch size is 32 (--batch-size), so it would refuse every round',
    );
    expect(attempt('small', { ...PERMISSIVE_POLICY, minExamples: 100 }).message).toBe(
      'client "small" sends updates computed from at least 100 examples (--min-examples) but declared 40, so it would refuse every round',
    );
    expect(attempt('secret', { ...PERMISSIVE_POLICY, requireSecureAggregation: true }).message).toMatch(/accepts only rounds under secure aggregation .*start the coordinator with --secure-aggregation/);
    const snapshot = status.snapshot();
    expect(snapshot.refusedJoins.map((r) => [r.clientId, r.code])).toEqual([
      ['batchy', 'FEDTL_ERR_POLICY_REFUSED'],
      ['small', 'FEDTL_ERR_POLICY_REFUSED'],
      ['secret', 'FEDTL_ERR_POLICY_REFUSED'],
    ]);
    expect(snapshot.clientsConnected).toBe(0);
    expect(await new CoordinatorMetrics(status, c, false).render(snapshot)).toContain('fedtl_join_refusals_total{code="FEDTL_ERR_POLICY_REFUSED"} 3');
  });

  it('stops selecting a client once it reached its --max-rounds policy, instead of letting it refuse', async () => {
    const c = coordinator(3);
    const records: RoundRecord[] = [];
    c.on('round', (record) => records.push(record));
    scriptedClient(c, 'a');
    scriptedClient(c, 'b');
    scriptedClient(c, 'capped', { ...PERMISSIVE_POLICY, maxRounds: 1 });
    const status = new RunStatus(c, { runId: 'run', backbone, model: { inputDim: 2, adapterWidth: 0, head: 'linear', headHidden: 1, labels: ['a', 'b'] }, roundsPlanned: 3, secureAggregation: false });
    expect(status.snapshot().clients.find((client) => client.clientId === 'capped')).toMatchObject({ privacyPolicy: '<= 1 rounds', policy: { maxRounds: 1 } });
    await c.run();
    expect(records.map((r) => [r.round, r.status, r.selected])).toEqual([
      [1, 'aggregated', ['a', 'b', 'capped']],
      [2, 'aggregated', ['a', 'b']],
      [3, 'aggregated', ['a', 'b']],
    ]);
    expect(records.every((r) => r.failures.length === 0)).toBe(true);
  });
});
