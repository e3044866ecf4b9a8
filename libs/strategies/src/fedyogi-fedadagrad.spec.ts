// FedYogi and FedAdagrad (on the shared FedOpt) on a two-weight model, three rounds worked out by hand from
// Algorithm 2 of Reddi et al.; their state round trip is in fedopt.spec.ts with FedAvgM's and FedAdam's.
import type { NamedTensor } from '@fedtl/protocol';
import { FedAdagrad } from './fedadagrad';
import { FedYogi } from './fedyogi';
import type { FedOpt } from './fedopt';
import { type Strategy, aggregateUpdates } from './strategy';

const tensor = (a: number, b: number): NamedTensor[] => [{ name: 'w', shape: [2], dtype: 'float32', data: Float32Array.of(a, b) }];
/** One client a round, so the mean delta Δ is its delta. */
const DELTAS: Array<[number, number]> = [[0.5, -0.2], [0.5, 0.4], [0.01, 0.4]];

async function run(strategy: FedOpt): Promise<number[][]> {
  let global = strategy.initialize(tensor(1, 1));
  const out: number[][] = [];
  for (const [r, [a, b]] of DELTAS.entries()) {
    const result = await aggregateUpdates(strategy, r + 1, global, [{ clientId: 'c', delta: tensor(a, b), numExamples: 3, metrics: {} }]);
    if (!result) throw new Error('nothing aggregated');
    global = result.weights;
    out.push(Array.from(global[0].data));
  }
  return out;
}

function expectClose(actual: number[][], expected: number[][]): void {
  actual.forEach((row, r) => row.forEach((value, i) => expect([r, i, value]).toEqual([r, i, expect.closeTo(expected[r][i], 6)])));
}

describe('FedYogi', () => {
  it('takes the steps of Algorithm 2 worked by hand (η 0.1, β₁ 0.9, β₂ 0.99, τ 1e-3)', async () => {
    const strategy = new FedYogi({ serverLearningRate: 0.1, tau: 1e-3 });
    // Round 1, weight 0: m = 0.1·0.5 = 0.05; v = 0 − 0.01·0.25·sign(0 − 0.25) = 0.0025; √v = 0.05;
    //   x = 1 + 0.1·0.05 / 0.051 = 1.0980392.  Weight 1: m = −0.02, v = 0.0004, x = 1 − 0.002 / 0.021 = 0.9047619.
    // Round 2, weight 0: m = 0.9·0.05 + 0.05 = 0.095; v = 0.0025 + 0.01·0.25 = 0.005 (v < Δ²: grows);
    //   x = 1.0980392 + 0.0095 / (0.0707107 + 0.001) = 1.2305161.
    //   Weight 1: m = −0.018 + 0.04 = 0.022; v = 0.0004 + 0.0016 = 0.002; x = 0.9047619 + 0.0022 / 0.0457214 = 0.9528795.
    // Round 3, weight 0: Δ² = 0.0001 < v, so Yogi takes off (1 − β₂)·Δ² only: v = 0.005 − 0.000001 = 0.004999
    //   (Adam would give 0.99·0.005 + 0.01·0.0001 = 0.004951); m = 0.0855 + 0.001 = 0.0865;
    //   x = 1.2305161 + 0.00865 / (0.0707036 + 0.001) = 1.3511516.
    //   Weight 1: m = 0.0198 + 0.04 = 0.0598; v = 0.002 + 0.0016 = 0.0036; x = 0.9528795 + 0.00598 / 0.061 = 1.0509123.
    expectClose(await run(strategy), [
      [1.0980392, 0.9047619],
      [1.2305161, 0.9528795],
      [1.3511516, 1.0509123],
    ]);
    const { firstMoment, secondMoment } = strategy.state().tensors;
    expect(Array.from(firstMoment[0].data)).toEqual([expect.closeTo(0.0865, 7), expect.closeTo(0.0598, 7)]);
    expect(Array.from(secondMoment[0].data)).toEqual([expect.closeTo(0.004999, 8), expect.closeTo(0.0036, 8)]);
  });

  it('has documented defaults and names a bad option in a RangeError', () => {
    const strategy = new FedYogi();
    expect(strategy.name).toBe('FedYogi');
    expect((strategy as Strategy).requiresIndividualUpdates).toBeUndefined();
    expect([strategy.options.serverLearningRate, strategy.beta1, strategy.beta2, strategy.tau]).toEqual([0.01, 0.9, 0.99, 1e-3]);
    expect(() => new FedYogi({ beta1: 1 })).toThrow(new RangeError('FedYogi: beta1 must be in [0, 1), got 1'));
    expect(() => new FedYogi({ beta2: -0.5 })).toThrow(new RangeError('FedYogi: beta2 must be in [0, 1), got -0.5'));
    expect(() => new FedYogi({ tau: 0 })).toThrow(new RangeError('FedYogi: tau must be positive and finite, got 0'));
    expect(() => new FedYogi({ serverLearningRate: 0 })).toThrow(new RangeError('FedYogi: serverLearningRate must be positive and finite, got 0'));
  });
});

describe('FedAdagrad', () => {
  it('takes the steps of Algorithm 2 worked by hand (η 0.1, β₁ 0, τ 1e-9)', async () => {
    // v sums the squares; with β₁ = 0, m is the round's Δ.
    // Round 1: v = (0.25, 0.04); x = 1 + 0.1·0.5/0.5 = 1.1, 1 − 0.1·0.2/0.2 = 0.9.
    // Round 2: v = (0.5, 0.2); x = 1.1 + 0.05/√0.5 = 1.1707107, 0.9 + 0.04/√0.2 = 0.9894427.
    // Round 3: v = (0.5001, 0.36); x = 1.1707107 + 0.001/√0.5001 = 1.1721248, 0.9894427 + 0.04/0.6 = 1.0561094.
    expectClose(await run(new FedAdagrad()), [
      [1.1, 0.9],
      [1.1707107, 0.9894427],
      [1.1721248, 1.0561094],
    ]);
  });

  it('with momentum β₁ 0.5: m = 0.5·m + 0.5·Δ', async () => {
    // Round 1: m = (0.25, −0.1), v = (0.25, 0.04): x = 1 + 0.1·0.25/0.5 = 1.05, 1 − 0.1·0.1/0.2 = 0.95.
    // Round 2: m = (0.375, 0.15), v = (0.5, 0.2): x = 1.05 + 0.0375/√0.5 = 1.1030330, 0.95 + 0.015/√0.2 = 0.9835410.
    const [first, second] = await run(new FedAdagrad({ beta1: 0.5 }));
    expectClose([first, second], [
      [1.05, 0.95],
      [1.103033, 0.983541],
    ]);
  });

  it('has documented defaults and names a bad option in a RangeError', () => {
    const strategy = new FedAdagrad();
    expect(strategy.name).toBe('FedAdagrad');
    expect([strategy.options.serverLearningRate, strategy.beta1, strategy.tau]).toEqual([0.1, 0, 1e-9]);
    expect(() => new FedAdagrad({ beta1: 1 })).toThrow(new RangeError('FedAdagrad: beta1 must be in [0, 1), got 1'));
    expect(() => new FedAdagrad({ tau: -1 })).toThrow(new RangeError('FedAdagrad: tau must be positive and finite, got -1'));
  });
});
