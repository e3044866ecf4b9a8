import type { NamedTensor } from '@fedtl/protocol';
import type { GaussianSource } from '@fedtl/privacy';
import { DpFedAvgAggregator } from './dp-fedavg';
import { FedAvg } from './fedavg';

const tensor = (values: number[]): NamedTensor[] => [{ name: 'head/out/kernel', shape: [values.length], dtype: 'float32', data: Float32Array.from(values) }];
const ones: GaussianSource = { gaussian: (count) => new Float64Array(count).fill(1) };
const values = (weights: NamedTensor[] | undefined) => Array.from(weights?.[0].data ?? []);

describe('DpFedAvgAggregator', () => {
  const global = tensor([0, 0]);

  it('clips each update to S, weighs each 1, adds the noise and divides by q·N, then takes the server step', () => {
    const aggregator = new DpFedAvgAggregator(new FedAvg().beginRound(1, global), { clipNorm: 1, noiseStddev: 0.5, expectedClients: 4, randomness: ones });
    aggregator.add({ clientId: 'a', delta: tensor([3, 4]), numExamples: 1000, metrics: { loss: 1 } });
    aggregator.add({ clientId: 'b', delta: tensor([0.1, 0]), numExamples: 1, metrics: { loss: 3 } });
    const result = aggregator.finish([]);
    // ([0.6, 0.8] + [0.1, 0] + [0.5, 0.5]) / 4, the example counts ignored.
    values(result?.weights).forEach((v, i) => expect(v).toBeCloseTo([1.2 / 4, 1.3 / 4][i], 5));
    expect(result?.metrics).toMatchObject({ loss: 2, numClients: 2 });
  });

  it('leaves the updates it was given untouched', () => {
    const aggregator = new DpFedAvgAggregator(new FedAvg().beginRound(1, global), { clipNorm: 1, noiseStddev: 0, expectedClients: 1 });
    const delta = tensor([3, 4]);
    aggregator.add({ clientId: 'a', delta, numExamples: 1, metrics: {} });
    expect(values(delta)).toEqual([3, 4]);
  });

  it('adds an unmasked sum of already clipped and noised updates without noise of its own', () => {
    const aggregator = new DpFedAvgAggregator(new FedAvg().beginRound(1, global), { clipNorm: 1, noiseStddev: 0, expectedClients: 10 });
    aggregator.addSum(tensor([2, -1]), 3, { loss: 0.5 });
    const result = aggregator.finish([]);
    values(result?.weights).forEach((v, i) => expect(v).toBeCloseTo([0.2, -0.1][i], 6));
    expect(result?.metrics).toMatchObject({ numClients: 3, loss: 0.5 });
  });

  it('refuses a second update from a client, and has nothing to finish without updates', () => {
    const aggregator = new DpFedAvgAggregator(new FedAvg().beginRound(1, global), { clipNorm: 1, noiseStddev: 1, expectedClients: 2 });
    aggregator.add({ clientId: 'a', delta: tensor([1, 0]), numExamples: 1, metrics: {} });
    expect(() => aggregator.add({ clientId: 'a', delta: tensor([1, 0]), numExamples: 1, metrics: {} })).toThrow('already accepted');
    expect(new DpFedAvgAggregator(new FedAvg().beginRound(1, global), { clipNorm: 1, noiseStddev: 1, expectedClients: 2 }).finish([])).toBeNull();
  });

  it.each([
    [{ clipNorm: 0 }, /clip norm > 0/],
    [{ expectedClients: 0 }, /q·N > 0/],
    [{ noiseStddev: -1 }, /noise ≥ 0/],
  ])('refuses terms %j', (override, message) => {
    expect(() => new DpFedAvgAggregator(new FedAvg().beginRound(1, global), { clipNorm: 1, noiseStddev: 0, expectedClients: 1, ...override })).toThrow(message);
  });
});
