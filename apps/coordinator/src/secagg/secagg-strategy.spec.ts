// A strategy that must see each client's update cannot run where the coordinator only learns the sum.
import { join } from 'node:path';
import { FedAdagrad, FedAdam, FedAvg, FedAvgM, FedYogi, Krum, Median, MultiKrum, TrimmedMean } from '@fedtl/strategies';
import { useTestSandbox } from '@fedtl/util/testing';
import { CheckpointStore } from '../checkpoint-store';
import { Coordinator, type CoordinatorOptions } from '../coordinator';
import { MetricsLog } from '../metrics-log';
import { TrafficCounter } from '../traffic-counter';

describe('secure aggregation and the strategy', () => {
  const sandbox = useTestSandbox();

  function options(strategy: CoordinatorOptions['strategy']): CoordinatorOptions {
    return {
      runId: 'run', configHash: 'hash', rounds: 1, minClients: 2, minAvailable: 2, roundTimeoutMs: 1000, evalTimeoutMs: 1000,
      maxRoundAttempts: 1, roundRetryDelayMs: 1, maxClients: 10, maxMissedRounds: 5, maxPlanResends: 2, rejoinGraceMs: 0, token: '', seed: 1,
      backbone: { id: 'precomputed', contentHash: 'h', dim: 2 }, model: { inputDim: 2, adapterWidth: 0, head: 'linear', headHidden: 1, labels: ['a', 'b'] },
      training: { localEpochs: 1, batchSize: 8, learningRate: 0.1, optimizer: 'sgd' },
      initialWeights: [{ name: 'head/out/bias', shape: [2], dtype: 'float32', data: new Float32Array(2) }], strategy,
      store: new CheckpointStore(join(sandbox.dir, 'checkpoints')), metricsLog: new MetricsLog(join(sandbox.dir, 'metrics.jsonl')),
      traffic: new TrafficCounter(), limits: { updateNorm: { maxNorm: 100, action: 'clip' }, maxClientShare: 1, maxDeclaredExamples: 1000 },
      secureAggregation: { threshold: 0, phaseTimeoutMs: 1000 },
    };
  }

  it('refuses, at start-up, a strategy that needs individual updates, and takes one that acts on the mean', () => {
    const median = Object.assign(new FedAvg(), { name: 'Median', requiresIndividualUpdates: true });
    expect(() => new Coordinator(options(median))).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_BAD_CONFIG', message: expect.stringContaining("got Median, which needs each client's update") }));
    expect(() => new Coordinator(options(new FedAvg()))).not.toThrow();
  });

  it.each([
    ['Median', () => new Median()],
    ['TrimmedMean', () => new TrimmedMean()],
    ['Krum', () => new Krum()],
    ['MultiKrum', () => new MultiKrum({ byzantineClients: 1, selected: 2 })],
  ])('refuses the robust strategy %s at start-up, naming it', (name, make) => {
    expect(() => new Coordinator(options(make()))).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_BAD_CONFIG', message: expect.stringContaining(`got ${name}, which needs each client's update`) }));
  });

  it.each([
    ['FedAvgM', () => new FedAvgM()],
    ['FedAdam', () => new FedAdam()],
    ['FedYogi', () => new FedYogi()],
    ['FedAdagrad', () => new FedAdagrad()],
  ])('takes %s, which acts on the mean only', (_name, make) => {
    expect(() => new Coordinator(options(make()))).not.toThrow();
  });
});
