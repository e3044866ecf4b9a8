import type { NamedTensor } from '@fedtl/protocol';
import { seededRandom } from '@fedtl/util';
import { FedAvg } from './fedavg';
import { FEDPROX_DEFAULTS, FedProx } from './fedprox';
import { type ClientUpdate, aggregateUpdates } from './strategy';

const LAYOUT = [
  { name: 'adapter/down/kernel', shape: [3, 2] },
  { name: 'head/out/bias', shape: [2] },
];

function tensors(random: () => number): NamedTensor[] {
  return LAYOUT.map(({ name, shape }) => ({
    name,
    shape: shape.slice(),
    dtype: 'float32' as const,
    data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() * 2 - 1),
  }));
}

describe('FedProx', () => {
  const clients = ['a', 'b', 'c', 'd', 'e'];

  it('puts mu in every round plan and samples the same clients as FedAvg with the same options and random draws', () => {
    const options = { fractionFit: 0.6, minFitClients: 2 };
    const prox = new FedProx({ ...options, proximalMu: 0.5 });
    const avg = new FedAvg(options);
    for (let round = 1; round <= 3; round++) {
      const plan = prox.configureRound(round, clients, seededRandom(round));
      expect(plan).toEqual({ clients: avg.configureRound(round, clients, seededRandom(round))?.clients, config: { proximalMu: 0.5 } });
    }
    expect(prox.name).toBe('FedProx');
    expect(prox.proximalMu).toBe(0.5);
    expect(prox.requiredClientFeatures).toEqual(['fedprox/v1']);
    expect(new FedProx({ proximalMu: 0 }).requiredClientFeatures).toEqual([]);
  });

  it('waits like FedAvg when too few clients are available', () => {
    expect(new FedProx({ minAvailableClients: 3 }).configureRound(1, ['a', 'b'], seededRandom(1))).toBeNull();
  });

  it(`defaults mu to ${FEDPROX_DEFAULTS.proximalMu}, and mu = 0 is allowed (FedAvg's clients)`, () => {
    expect(new FedProx().configureRound(1, clients, seededRandom(1))?.config).toEqual({ proximalMu: 0.01 });
    expect(new FedProx({ proximalMu: 0 }).configureRound(1, clients, seededRandom(1))?.config).toEqual({ proximalMu: 0 });
  });

  it.each([-0.1, Number.NaN, Number.POSITIVE_INFINITY])('refuses mu = %s', (mu) => {
    expect(() => new FedProx({ proximalMu: mu })).toThrow(`FedProx: proximalMu must be finite and ≥ 0, got ${mu}`);
  });

  it("checks FedAvg's options under its own name", () => {
    expect(() => new FedProx({ fractionFit: 0 })).toThrow('FedProx: fractionFit must be in (0, 1], got 0');
  });

  it('aggregates exactly as FedAvg (example-weighted mean delta) and keeps no server state', async () => {
    const random = seededRandom(7);
    const global = tensors(random);
    const updates: ClientUpdate[] = [3, 5, 9].map((numExamples, k) => ({
      clientId: `c${k}`,
      delta: tensors(random),
      numExamples,
      metrics: { loss: k },
    }));
    const prox = new FedProx({ proximalMu: 1 });
    const viaProx = await aggregateUpdates(prox, 1, global, updates);
    const viaAvg = await aggregateUpdates(new FedAvg(), 1, global, updates);
    expect(viaProx).toEqual(viaAvg);
    expect(prox.state()).toEqual({ scalars: {}, tensors: {} });
    expect(() => prox.restore({ scalars: { step: 1 }, tensors: {} })).toThrow(/FedProx keeps no server state/);
  });
});
