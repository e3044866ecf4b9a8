// Per-FedAvg's local step (first-order) and few-shot adaptation, against references built from the model's own
// gradients step by step.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@fedtl/protocol';
import { AdapterHeadModel } from './adapter-head-model';
import { adaptLocally } from './adaptation';
import { trainLocally } from './local-training';
import { initialWeights } from './trainable-spec';
import { gaussianClusters, specFor, useCpuBackend } from './test-support';

beforeAll(useCpuBackend);

/** The gradient of the mean cross-entropy on all of `data` at `weights`, by tensor name. */
function gradientAt(spec: ReturnType<typeof specFor>, weights: readonly NamedTensor[], data: ReturnType<typeof gaussianClusters>): Record<string, Float32Array> {
  const model = new AdapterHeadModel(spec, weights);
  try {
    return tf.tidy(() => {
      const step = model.lossAndGradients(tf.tensor2d(data.features, [data.n, spec.inputDim]), tf.tensor1d(data.labels, 'int32'));
      return Object.fromEntries(Object.entries(step.gradients).map(([name, g]) => [name, g.dataSync() as Float32Array]));
    });
  } finally {
    model.dispose();
  }
}

const step = (weights: readonly NamedTensor[], gradient: Record<string, Float32Array>, size: number): NamedTensor[] =>
  weights.map((w) => ({ ...w, data: Float32Array.from(w.data, (v, i) => v - size * gradient[w.name][i]) }));

const spec = specFor({ inputDim: 6, adapterWidth: 3, labels: ['a', 'b', 'c'] });
const data = gaussianClusters(12, 6, 3, 21, 1);
/** Random weights (not the zero up-projection of the initialisation), so every tensor has a gradient. */
const start = initialWeights(spec, 4).map((w, t) => ({ ...w, data: Float32Array.from(w.data, (_v, i) => Math.sin(7 * t + i) / 2) }));

describe('trainLocally with a Per-FedAvg inner step', () => {
  it('moves w by −β·∇f(w − α·∇f(w)) in one full-batch SGD step, not by the plain step −β·∇f(w)', async () => {
    const alpha = 0.5;
    const beta = 0.1;
    const before = tf.memory().numTensors;
    const result = await trainLocally(spec, start, data, { localEpochs: 1, batchSize: 12, learningRate: beta, optimizer: 'sgd', seed: 1 }, { metaInnerLearningRate: alpha });
    expect(tf.memory().numTensors).toBe(before);
    const adapted = step(start, gradientAt(spec, start, data), alpha);
    const outer = gradientAt(spec, adapted, data);
    const plain = gradientAt(spec, start, data);
    let metaVsPlain = 0;
    for (const tensor of result.delta) {
      tensor.data.forEach((value, i) => {
        expect(value).toBeCloseTo(-beta * outer[tensor.name][i], 6);
        metaVsPlain = Math.max(metaVsPlain, Math.abs(value + beta * plain[tensor.name][i]));
      });
    }
    expect(metaVsPlain).toBeGreaterThan(1e-3);
  });

  it('takes the outer gradient on the next batch of the epoch (two batches: D, D′ = the other one)', async () => {
    // With two batches A, B in shuffled order, step 1 adapts on A and descends on B, step 2 adapts on B and
    // descends on A (each from the weights step 1 left). Swapping the batch roles gives another result, and the
    // result does not depend on anything but the data, α, β and the seed.
    const config = { localEpochs: 1, batchSize: 6, learningRate: 0.1, optimizer: 'sgd' as const, seed: 3 };
    const once = await trainLocally(spec, start, data, config, { metaInnerLearningRate: 0.5 });
    const again = await trainLocally(spec, start, data, config, { metaInnerLearningRate: 0.5 });
    expect(again.delta).toEqual(once.delta);
    const plain = await trainLocally(spec, start, data, config);
    expect(plain.delta).not.toEqual(once.delta);
  });

  it('refuses a negative α and α together with a proximal μ, leaving no tensors', async () => {
    const before = tf.memory().numTensors;
    const config = { localEpochs: 1, batchSize: 6, learningRate: 0.1, optimizer: 'sgd' as const, seed: 3 };
    await expect(trainLocally(spec, start, data, config, { metaInnerLearningRate: -1 })).rejects.toThrow(/metaInnerLearningRate must be finite and ≥ 0, got -1/);
    await expect(trainLocally(spec, start, data, config, { metaInnerLearningRate: 0.1, proximalMu: 0.1 })).rejects.toThrow(/got both/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('adaptLocally', () => {
  it('takes `steps` full-batch SGD steps from the initialisation and returns the adapted weights', async () => {
    const before = tf.memory().numTensors;
    const result = await adaptLocally(spec, start, data, { steps: 2, learningRate: 0.3, seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    const first = step(start, gradientAt(spec, start, data), 0.3);
    const second = step(first, gradientAt(spec, first, data), 0.3);
    result.weights.forEach((tensor, t) => {
      expect(tensor.name).toBe(start[t].name);
      tensor.data.forEach((value, i) => expect(value).toBeCloseTo(second[t].data[i], 5));
    });
    expect(result.metrics.accuracy).toBeGreaterThanOrEqual(0);
  });

  it('adapts only the tensors it is told to, and refuses zero steps with FEDTL_ERR_BAD_CONFIG', async () => {
    const result = await adaptLocally(spec, start, data, { steps: 1, learningRate: 0.3, seed: 1, trainable: (name) => name.startsWith('head/') });
    result.weights.forEach((tensor, t) => expect(tensor.data.some((v, i) => v !== start[t].data[i])).toBe(tensor.name.startsWith('head/')));
    await expect(adaptLocally(spec, start, data, { steps: 0, learningRate: 0.3, seed: 1 })).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_CONFIG' });
    await expect(adaptLocally(spec, start, data, { steps: 0, learningRate: 0.3, seed: 1 })).rejects.toThrow('adaptation: steps must be an integer ≥ 1, got number 0');
  });
});
