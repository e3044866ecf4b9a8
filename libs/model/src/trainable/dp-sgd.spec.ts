// DP-SGD's arithmetic against what Abadi et al.'s Algorithm 1 says it must be: without noise and sampling it is
// plain SGD on the mean gradient; clipping bounds each record's part; the noise has the scale σC / (q·n); the
// sampling and the noise come from a secret source, never the plan's seed; and it reports what it spent.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@fedtl/protocol';
import { seededRandom } from '@fedtl/util';
import type { DpRandomness } from '@fedtl/privacy';
import { dpSgdSpend, dpStepsPerEpoch, trainLocallyDpSgd } from './dp-sgd';
import { trainLocally } from './local-training';
import { initialWeights } from './trainable-spec';
import { gaussianClusters, specFor, useCpuBackend } from './test-support';

beforeAll(useCpuBackend);

const spec = specFor({ inputDim: 6, adapterWidth: 3, labels: ['a', 'b', 'c'] });
const data = gaussianClusters(12, 6, 3, 21, 1);
/** Weights away from the zero up-projection, so every tensor has a gradient. */
const start = initialWeights(spec, 4).map((w, t) => ({ ...w, data: Float32Array.from(w.data, (_v, i) => Math.sin(7 * t + i) / 2) }));
function norm(tensors: readonly NamedTensor[]): number {
  let sum = 0;
  for (const tensor of tensors) for (const v of tensor.data) sum += v * v;
  return Math.sqrt(sum);
}

/** Every record sampled (uniform() = 0) and, when asked, noise of exactly `value` in every coordinate. */
function fixedRandomness(sample: number, value: number): DpRandomness {
  return { uniform: () => sample, gaussian: (count) => new Float64Array(count).fill(value) };
}

describe('trainLocallyDpSgd', () => {
  it('is plain full-batch SGD on the mean gradient with every record sampled, no noise and a clip bound never reached', async () => {
    const config = { localEpochs: 1, batchSize: 12, learningRate: 0.1, optimizer: 'sgd' as const, seed: 1 };
    const before = tf.memory().numTensors;
    const dp = await trainLocallyDpSgd(spec, start, data, config, { clipNorm: 1e6, noiseMultiplier: 0, randomness: fixedRandomness(0, 0) });
    const plain = await trainLocally(spec, start, data, config);
    expect(tf.memory().numTensors).toBe(before);
    dp.delta.forEach((tensor, t) => tensor.data.forEach((v, i) => expect(v).toBeCloseTo(plain.delta[t].data[i], 6)));
    expect(dp.privacy).toEqual({ mechanism: 'poisson-sampled-gaussian', samplingRate: 1, noiseMultiplier: 0, steps: 1 });
  });

  it('clips each record: one SGD step moves the weights by at most η·C', async () => {
    const config = { localEpochs: 1, batchSize: 12, learningRate: 0.5, optimizer: 'sgd' as const, seed: 1 };
    const clipped = await trainLocallyDpSgd(spec, start, data, config, { clipNorm: 0.01, noiseMultiplier: 0, randomness: fixedRandomness(0, 0) });
    expect(norm(clipped.delta)).toBeLessThanOrEqual(0.5 * 0.01 * (1 + 1e-5));
    const unclipped = await trainLocallyDpSgd(spec, start, data, config, { clipNorm: 1e6, noiseMultiplier: 0, randomness: fixedRandomness(0, 0) });
    expect(norm(unclipped.delta)).toBeGreaterThan(10 * norm(clipped.delta));
  });

  it('spends what dpSgdSpend says before training: q = min(1, batch/n), epochs · round(1/q) steps', async () => {
    const config = { localEpochs: 2, batchSize: 5, learningRate: 0.1, optimizer: 'sgd' as const, seed: 1 };
    expect(dpSgdSpend(config, 12, 1.1)).toEqual({ mechanism: 'poisson-sampled-gaussian', samplingRate: 5 / 12, noiseMultiplier: 1.1, steps: 4 });
    expect(dpSgdSpend({ localEpochs: 3, batchSize: 50 }, 12, 1)).toMatchObject({ samplingRate: 1, steps: 3 });
    const trained = await trainLocallyDpSgd(spec, start, data, config, { clipNorm: 1, noiseMultiplier: 1.1, randomness: fixedRandomness(0.99, 0) });
    expect(trained.privacy).toEqual(dpSgdSpend(config, data.n, 1.1));
  });

  it('adds noise of standard deviation σC to the sum and divides by the expected batch size q·n', async () => {
    // No record sampled (uniform() = 0.99 ≥ q = 0.5) and every noise draw 1: each step's gradient is σC / (q·n) in
    // every coordinate; 2 steps per epoch of SGD move every weight by −2·η·σC / (q·n).
    const config = { localEpochs: 1, batchSize: 6, learningRate: 0.1, optimizer: 'sgd' as const, seed: 1 };
    const result = await trainLocallyDpSgd(spec, start, data, config, { clipNorm: 2, noiseMultiplier: 3, randomness: fixedRandomness(0.99, 1) });
    expect(result.privacy).toEqual({ mechanism: 'poisson-sampled-gaussian', samplingRate: 0.5, noiseMultiplier: 3, steps: dpStepsPerEpoch(0.5) });
    const expected = (-2 * 0.1 * 3 * 2) / (0.5 * 12);
    for (const tensor of result.delta) for (const v of tensor.data) expect(v).toBeCloseTo(expected, 5);
  });

  it('draws its sampling and noise from the operating system, not from the plan seed', async () => {
    const config = { localEpochs: 1, batchSize: 4, learningRate: 0.1, optimizer: 'sgd' as const, seed: 7 };
    const first = await trainLocallyDpSgd(spec, start, data, config, { clipNorm: 1, noiseMultiplier: 1 });
    const second = await trainLocallyDpSgd(spec, start, data, config, { clipNorm: 1, noiseMultiplier: 1 });
    expect(first.delta).not.toEqual(second.delta);
    // A seeded source (tests only) repeats exactly.
    const seeded = (): DpRandomness => {
      const random = seededRandom(3);
      return { uniform: random, gaussian: (count) => Float64Array.from({ length: count }, () => random() - 0.5) };
    };
    const a = await trainLocallyDpSgd(spec, start, data, config, { clipNorm: 1, noiseMultiplier: 1, randomness: seeded() });
    const b = await trainLocallyDpSgd(spec, start, data, config, { clipNorm: 1, noiseMultiplier: 1, randomness: seeded() });
    expect(a.delta).toEqual(b.delta);
  });

  it('refuses a clip norm or noise multiplier that is no DP setting, naming it', async () => {
    const config = { localEpochs: 1, batchSize: 4, learningRate: 0.1, optimizer: 'sgd' as const, seed: 7 };
    await expect(trainLocallyDpSgd(spec, start, data, config, { clipNorm: 0, noiseMultiplier: 1 })).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_CONFIG' });
    await expect(trainLocallyDpSgd(spec, start, data, config, { clipNorm: 1, noiseMultiplier: -1 })).rejects.toThrow('DP-SGD: noiseMultiplier must be finite and ≥ 0, got number -1');
  });
});
