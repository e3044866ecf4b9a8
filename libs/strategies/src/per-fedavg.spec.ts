import { seededRandom } from '@fedtl/util';
import { FedAvg } from './fedavg';
import { PER_FEDAVG_DEFAULTS, PerFedAvg } from './per-fedavg';

describe('PerFedAvg', () => {
  const clients = ['a', 'b', 'c', 'd', 'e'];

  it('puts alpha in every round plan and samples the same clients as FedAvg with the same options and random draws', () => {
    const options = { fractionFit: 0.6, minFitClients: 2 };
    const meta = new PerFedAvg({ ...options, metaInnerLearningRate: 0.2 });
    const avg = new FedAvg(options);
    for (let round = 1; round <= 3; round++) {
      const plan = meta.configureRound(round, clients, seededRandom(round));
      expect(plan).toEqual({ clients: avg.configureRound(round, clients, seededRandom(round))?.clients, config: { metaInnerLearningRate: 0.2 } });
    }
    expect(meta.name).toBe('PerFedAvg');
    expect(meta.requiredClientFeatures).toEqual(['per-fedavg/v1']);
    expect(new PerFedAvg().metaInnerLearningRate).toBe(PER_FEDAVG_DEFAULTS.metaInnerLearningRate);
  });

  it('waits like FedAvg when too few clients are available', () => {
    expect(new PerFedAvg({ minAvailableClients: 3 }).configureRound(1, ['a', 'b'], seededRandom(1))).toBeNull();
  });

  it.each([0, -0.1, Number.NaN, Number.POSITIVE_INFINITY])('refuses alpha = %s', (alpha) => {
    expect(() => new PerFedAvg({ metaInnerLearningRate: alpha })).toThrow(/metaInnerLearningRate must be finite and > 0/);
  });
});
