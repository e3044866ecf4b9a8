import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor, TrainingConfig } from '@fedtl/protocol';
import { AdapterHeadModel } from './adapter-head-model';
import { evaluate } from './evaluation';
import { trainLocally } from './local-training';
import { initialWeights } from './trainable-spec';
import { gaussianClusters, specFor, useCpuBackend } from './test-support';

beforeAll(useCpuBackend);

afterEach(() => {
  jest.restoreAllMocks();
});

const CONFIG: TrainingConfig = { localEpochs: 5, batchSize: 16, learningRate: 0.1, optimizer: 'sgd', seed: 17 };

function applyDelta(global: NamedTensor[], delta: NamedTensor[]): NamedTensor[] {
  return global.map((g, t) => ({ ...g, data: Float32Array.from(g.data, (v, i) => v + delta[t].data[i]) }));
}

function squaredNorm(tensors: NamedTensor[]): number {
  return tensors.reduce((sum, t) => sum + Array.from(t.data).reduce((s, v) => s + v * v, 0), 0);
}

describe('trainLocally', () => {
  it.each([
    ['2 labels, linear head, sgd', specFor(), CONFIG],
    [
      '3 labels, mlp head, adam',
      specFor({ head: 'mlp', labels: ['a', 'b', 'c'] }),
      { ...CONFIG, optimizer: 'adam' as const, learningRate: 0.01 },
    ],
  ])('learns separable Gaussian clusters (%s) to > 0.9 accuracy without leaking tensors', async (_, spec, config) => {
    const numLabels = spec.labels.length;
    const train = gaussianClusters(240, 16, numLabels, 1);
    const test = gaussianClusters(150, 16, numLabels, 2);
    const global = initialWeights(spec, 3);
    const before = tf.memory().numTensors;
    const result = await trainLocally(spec, global, train, config);
    expect(tf.memory().numTensors).toBe(before);

    expect(result.numExamples).toBe(240);
    expect(result.metrics.accuracy).toBeGreaterThan(0.9);
    expect(result.metrics.loss).toBeGreaterThan(0);
    expect(result.metrics.loss).toBeLessThan(0.5);
    expect(result.metrics.seconds).toBeGreaterThan(0);

    const start = await evaluate(spec, global, test);
    const trained = await evaluate(spec, applyDelta(global, result.delta), test);
    expect(tf.memory().numTensors).toBe(before);
    expect(trained.metrics.accuracy).toBeGreaterThan(0.9);
    expect(trained.metrics.loss).toBeLessThan(start.metrics.loss);
  });

  it('trains in a reused model exactly as in a fresh one, leaving the model alive and no other tensor behind', async () => {
    const spec = specFor();
    const model = new AdapterHeadModel(spec, initialWeights(spec, 99));
    try {
      const before = tf.memory().numTensors;
      for (const [seed, data] of [[3, gaussianClusters(40, 16, 2, 1)], [4, gaussianClusters(25, 16, 2, 2)]] as const) {
        const global = initialWeights(spec, seed);
        const fresh = await trainLocally(spec, global, data, CONFIG);
        const reused = await trainLocally(spec, global, data, CONFIG, { model });
        expect(reused.delta).toEqual(fresh.delta);
        expect(tf.memory().numTensors).toBe(before);
      }
      await expect(trainLocally(specFor({ labels: ['x', 'y', 'z'] }), initialWeights(specFor({ labels: ['x', 'y', 'z'] }), 1), gaussianClusters(9, 16, 3, 1), CONFIG, { model })).rejects.toThrow(
        /expected options.model of the spec/,
      );
    } finally {
      model.dispose();
    }
  });

  it('reports every step over all epochs to onProgress', async () => {
    const spec = specFor();
    const progress: Array<[number, number]> = [];
    // 40 examples in batches of 16: 3 steps an epoch (16, 16, 8), 2 epochs.
    await trainLocally(spec, initialWeights(spec, 3), gaussianClusters(40, 16, 2, 1), { ...CONFIG, localEpochs: 2 }, { onProgress: (done, total) => progress.push([done, total]) });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6].map((done) => [done, 6]));
  });

  it('returns exactly local − global, with only the trainable names, in the order of the global list', async () => {
    const spec = specFor();
    const global = initialWeights(spec, 3).reverse();
    const getWeights = jest.spyOn(AdapterHeadModel.prototype, 'getWeights');
    const result = await trainLocally(spec, global, gaussianClusters(64, 16, 2, 1), { ...CONFIG, localEpochs: 2 });
    expect(getWeights).toHaveBeenCalledTimes(1);
    const local = getWeights.mock.results[0].value as NamedTensor[];
    expect(result.delta.map((t) => t.name)).toEqual(global.map((t) => t.name));
    expect(result.delta.every((t) => /^(adapter|head)\//.test(t.name))).toBe(true);
    result.delta.forEach((delta, t) => {
      const after = local.find((l) => l.name === delta.name) as NamedTensor;
      expect(delta.shape).toEqual(global[t].shape);
      expect(delta.dtype).toBe('float32');
      for (let i = 0; i < delta.data.length; i++) {
        expect(delta.data[i]).toBe(Math.fround(after.data[i] - global[t].data[i]));
      }
    });
    expect(squaredNorm(result.delta.filter((t) => t.name === 'adapter/up/kernel'))).toBeGreaterThan(0);
  });

  it('is deterministic for a seed and shuffles differently for another', async () => {
    const spec = specFor();
    const data = gaussianClusters(64, 16, 2, 1);
    const global = initialWeights(spec, 3);
    const config = { ...CONFIG, localEpochs: 2, optimizer: 'adam' as const, learningRate: 0.01 };
    const first = await trainLocally(spec, global, data, config);
    const second = await trainLocally(spec, global, data, config);
    const other = await trainLocally(spec, global, data, { ...config, seed: 18 });
    expect(second.delta).toEqual(first.delta);
    expect(other.delta).not.toEqual(first.delta);
  });

  it('does not modify the global weights or the data', async () => {
    const spec = specFor();
    const data = gaussianClusters(32, 16, 2, 1);
    const global = initialWeights(spec, 3);
    const copies = { global: global.map((t) => t.data.slice()), features: data.features.slice() };
    await trainLocally(spec, global, data, { ...CONFIG, localEpochs: 1 });
    global.forEach((t, i) => expect(t.data).toEqual(copies.global[i]));
    expect(data.features).toEqual(copies.features);
  });

  it('keeps the weights closer to the global ones under a FedProx proximal term', async () => {
    const spec = specFor({ adapterWidth: 0 });
    const data = gaussianClusters(64, 16, 2, 1);
    const global = initialWeights(spec, 3);
    const before = tf.memory().numTensors;
    const free = await trainLocally(spec, global, data, CONFIG);
    const anchored = await trainLocally(spec, global, data, CONFIG, { proximalMu: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(squaredNorm(anchored.delta)).toBeLessThan(0.8 * squaredNorm(free.delta));
    await expect(trainLocally(spec, global, data, CONFIG, { proximalMu: -1 })).rejects.toThrow(
      'proximalMu must be finite and ≥ 0, got -1',
    );
  });

  it('adds exactly mu·(w − w_global) to the SGD gradient: step 1 is unchanged, step 2 is pulled back by lr·mu·delta₁', async () => {
    // Full-batch SGD, so each epoch is one step and the gradient does not depend on the shuffle.
    const spec = specFor({ adapterWidth: 0 });
    const data = gaussianClusters(32, 16, 2, 1);
    const global = initialWeights(spec, 3);
    const config = { ...CONFIG, batchSize: 32, learningRate: 0.1 };
    const mu = 2;
    const before = tf.memory().numTensors;
    const oneStep = await trainLocally(spec, global, data, { ...config, localEpochs: 1 });
    const oneStepProx = await trainLocally(spec, global, data, { ...config, localEpochs: 1 }, { proximalMu: mu });
    const twoSteps = await trainLocally(spec, global, data, { ...config, localEpochs: 2 });
    const twoStepsProx = await trainLocally(spec, global, data, { ...config, localEpochs: 2 }, { proximalMu: mu });
    expect(tf.memory().numTensors).toBe(before);
    // w₁ = w₀ − lr·g(w₀): the term's gradient is 0 at w = w_global.
    expect(oneStepProx.delta).toEqual(oneStep.delta);
    // w₂ = w₁ − lr·(g(w₁) + mu·(w₁ − w₀)), so delta₂(mu) = delta₂(0) − lr·mu·delta₁.
    twoStepsProx.delta.forEach((t, k) => {
      t.data.forEach((v, i) => {
        const expected = twoSteps.delta[k].data[i] - config.learningRate * mu * oneStep.delta[k].data[i];
        expect(Math.abs(v - expected)).toBeLessThan(1e-6);
      });
    });
    expect(squaredNorm(oneStep.delta)).toBeGreaterThan(0);
  });

  it.each(['sgd', 'adam'] as const)('with %s: mu = 0 is bit-identical to no term, and the delta shrinks towards 0 as mu grows', async (optimizer) => {
    const spec = specFor();
    const data = gaussianClusters(64, 16, 2, 1);
    const global = initialWeights(spec, 3);
    const config = { ...CONFIG, optimizer, learningRate: optimizer === 'sgd' ? 0.05 : 0.01, localEpochs: 10 };
    const before = tf.memory().numTensors;
    const plain = await trainLocally(spec, global, data, config);
    expect((await trainLocally(spec, global, data, config, { proximalMu: 0 })).delta).toEqual(plain.delta);
    const norms = [squaredNorm(plain.delta)];
    for (const mu of [1, 5, 19]) norms.push(squaredNorm((await trainLocally(spec, global, data, config, { proximalMu: mu })).delta));
    expect(tf.memory().numTensors).toBe(before);
    for (let i = 1; i < norms.length; i++) expect(norms[i]).toBeLessThan(norms[i - 1]);
    expect(norms[norms.length - 1]).toBeLessThan(0.05 * norms[0]);
  });

  it.each([
    ['sgd', 1e30],
    ['adam', 1e30],
  ] as const)('stops a diverging run (%s at learning rate %s) with FEDTL_ERR_DIVERGED naming the rate, leaving no tensors', async (optimizer, learningRate) => {
    const spec = specFor();
    const data = gaussianClusters(64, 16, 2, 1);
    const global = initialWeights(spec, 3);
    const before = tf.memory().numTensors;
    const diverging = trainLocally(spec, global, data, { ...CONFIG, optimizer, learningRate });
    await expect(diverging).rejects.toMatchObject({ code: 'FEDTL_ERR_DIVERGED', message: expect.stringContaining(`optimizer ${optimizer}, learning rate 1e+30`) });
    await expect(diverging).rejects.toThrow('lower the learning rate');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses bad configs, data and weights with codes, leaving no tensors', async () => {
    const spec = specFor();
    const data = gaussianClusters(8, 16, 2, 1);
    const global = initialWeights(spec, 3);
    const before = tf.memory().numTensors;
    const fails = (promise: Promise<unknown>, code: string) => expect(promise).rejects.toMatchObject({ code });
    await fails(trainLocally(spec, global, data, { ...CONFIG, localEpochs: 0 }), 'FEDTL_ERR_BAD_CONFIG');
    await fails(trainLocally(spec, global, data, { ...CONFIG, batchSize: 2.5 }), 'FEDTL_ERR_BAD_CONFIG');
    await fails(trainLocally(spec, global, data, { ...CONFIG, learningRate: -1 }), 'FEDTL_ERR_BAD_CONFIG');
    await fails(trainLocally(spec, global, data, { ...CONFIG, optimizer: 'rmsprop' as 'sgd' }), 'FEDTL_ERR_BAD_CONFIG');
    await fails(trainLocally(spec, global, { ...data, n: 7 }, CONFIG), 'FEDTL_ERR_BAD_DATA');
    const outOfRange = { ...data, labels: Int32Array.of(0, 1, 2, 0, 1, 0, 1, 0) };
    await fails(trainLocally(spec, global, outOfRange, CONFIG), 'FEDTL_ERR_BAD_DATA');
    const empty = { features: new Float32Array(0), labels: new Int32Array(0), n: 0 };
    await fails(trainLocally(spec, global, empty, CONFIG), 'FEDTL_ERR_BAD_DATA');
    await fails(trainLocally(spec, global.slice(1), data, CONFIG), 'FEDTL_ERR_BAD_TENSOR_NAME');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('trainLocally with frozen tensors', () => {
  beforeAll(useCpuBackend);

  it('leaves tensors outside `trainable` unchanged (zero delta) and trains the rest', async () => {
    const spec = specFor({ adapterWidth: 4 });
    const data = gaussianClusters(48, spec.inputDim, 2, 11);
    const global = initialWeights(spec, 2);
    const before = tf.memory().numTensors;
    const result = await trainLocally(spec, global, data, { localEpochs: 2, batchSize: 16, learningRate: 0.05, optimizer: 'adam', seed: 1 }, {
      trainable: (name) => name.startsWith('head/'),
    });
    expect(tf.memory().numTensors).toBe(before);
    for (const tensor of result.delta) {
      const moved = tensor.data.some((v) => v !== 0);
      expect([tensor.name, moved]).toEqual([tensor.name, tensor.name.startsWith('head/')]);
    }
  });
});
