import * as tf from '@tensorflow/tfjs-core';
import { dpSgdSpend, initialWeights, selectBackend, trainLocally } from '@fedtl/model';
import type { ModelSpec, NamedTensor } from '@fedtl/protocol';
import { seededRandom } from '@fedtl/util';
import { Learner, featureExamples } from './learner';
import type { FeatureSplit, LocalData } from './local-data';
import { precomputedBackboneRef } from '@fedtl/model';

const DIM = 8;
const spec: ModelSpec = { inputDim: DIM, adapterWidth: 4, head: 'linear', headHidden: 16, labels: ['no', 'yes'] };

function split(n: number, random: () => number): FeatureSplit {
  const features = new Float32Array(n * DIM);
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const positive = i % 2 === 0;
    for (let j = 0; j < DIM; j++) features[i * DIM + j] = (positive ? 1 : -1) * (j === 0 ? 2 : 0) + (random() - 0.5);
    labels.push(positive ? 'yes' : 'no');
  }
  return { features, labels };
}

describe('Learner', () => {
  const random = seededRandom(3);
  const data: LocalData = { backbone: precomputedBackboneRef(DIM), train: split(64, random), test: split(32, random), labelSet: ['no', 'yes'] };
  const config = { localEpochs: 2, batchSize: 16, learningRate: 0.05, optimizer: 'adam' as const, seed: 1 };

  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('trains, evaluates and reports a local-only baseline without leaking tensors across rounds', async () => {
    const learner = new Learner(spec, featureExamples(spec, data), 4, 9);
    let weights = initialWeights(spec, 1);
    const before = tf.memory().numTensors;
    for (let round = 0; round < 3; round++) {
      const update = await learner.fit(weights, { ...config, seed: round });
      expect(update.numExamples).toBe(64);
      expect(update.delta.map((t) => t.name)).toEqual(weights.map((t) => t.name));
      weights = weights.map((t, i) => ({ ...t, data: t.data.map((v, k) => v + update.delta[i].data[k]) as Float32Array }));
      const report = await learner.evaluate(weights);
      expect(report.numExamples).toBe(32);
      expect(report.metrics.localOnlyAccuracy).toBeGreaterThan(0.9);
      expect(tf.memory().numTensors).toBe(before);
    }
    expect((await learner.evaluate(weights)).metrics.accuracy).toBeGreaterThan(0.9);
  });

  it("trains under the plan's FedProx proximalMu, anchored to the plan's weights, and exactly as before without it", async () => {
    const learner = new Learner(spec, featureExamples(spec, data), 0, 9);
    const weights = initialWeights(spec, 1);
    const labels = Int32Array.from(data.train.labels, (label) => spec.labels.indexOf(label));
    const train = { features: data.train.features, labels, n: labels.length };
    const before = tf.memory().numTensors;
    for (const optimizer of ['sgd', 'adam'] as const) {
      const plan = { ...config, optimizer, localEpochs: 4 };
      const plain = await learner.fit(weights, plan);
      expect(plain.delta).toEqual((await trainLocally(spec, weights, train, plan)).delta);
      expect((await learner.fit(weights, { ...plan, proximalMu: 0 })).delta).toEqual(plain.delta);
      const prox = await learner.fit(weights, { ...plan, proximalMu: 10 });
      expect(prox.delta).toEqual((await trainLocally(spec, weights, train, plan, { proximalMu: 10 })).delta);
      const norm = (delta: typeof plain.delta) => delta.reduce((s, t) => s + Array.from(t.data).reduce((a, v) => a + v * v, 0), 0);
      expect(norm(prox.delta)).toBeLessThan(norm(plain.delta));
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses data whose labels the federation does not know', () => {
    const odd: LocalData = { ...data, train: { ...data.train, labels: data.train.labels.map((l, i) => (i === 5 ? 'maybe' : l)) } };
    expect(() => new Learner(spec, featureExamples(spec, odd), 0, 1)).toThrow(/"maybe" is not in the federation's label set/);
  });
});

describe('Learner under differential privacy (PROTOCOL.md §7.1)', () => {
  const random = seededRandom(8);
  const data: LocalData = { backbone: precomputedBackboneRef(DIM), train: split(40, random), test: split(20, random), labelSet: ['no', 'yes'] };
  const labels = Int32Array.from(data.train.labels, (label) => spec.labels.indexOf(label));
  const train = { features: data.train.features, labels, n: labels.length };
  const config = { localEpochs: 2, batchSize: 10, learningRate: 0.1, optimizer: 'sgd' as const, seed: 1 };
  const norm = (delta: readonly NamedTensor[]) => Math.sqrt(delta.reduce((s, t) => s + Array.from(t.data).reduce((a, v) => a + v * v, 0), 0));
  const flat = (delta: readonly NamedTensor[]) => delta.flatMap((t) => Array.from(t.data));

  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('trains by DP-SGD when the plan sets a record clip norm: plain full-batch SGD with q = 1, σ = 0 and a clip never reached', async () => {
    const learner = new Learner(spec, featureExamples(spec, data), 0, 9);
    const weights = initialWeights(spec, 1);
    const fullBatch = { ...config, batchSize: 40 };
    const before = tf.memory().numTensors;
    const dp = await learner.fit(weights, { ...fullBatch, recordClipNorm: 1e6, recordNoiseMultiplier: 0 });
    const plain = await trainLocally(spec, weights, train, fullBatch);
    expect(tf.memory().numTensors).toBe(before);
    expect(dp.delta.map((t) => t.name)).toEqual(weights.map((t) => t.name));
    flat(dp.delta).forEach((v, i) => expect(v).toBeCloseTo(flat(plain.delta)[i], 6));
    expect(dp.privacy).toEqual(dpSgdSpend(fullBatch, 40, 0));
    // Computed from the records without noise: not covered by the guarantee, so not sent.
    expect(dp.metrics).toEqual({});
  });

  it('draws DP-SGD sampling and noise from the operating system: two fits differ from each other and from plain training', async () => {
    const learner = new Learner(spec, featureExamples(spec, data), 0, 9);
    const weights = initialWeights(spec, 1);
    const plan = { ...config, recordClipNorm: 0.5, recordNoiseMultiplier: 1.1 };
    const before = tf.memory().numTensors;
    const [first, second] = [await learner.fit(weights, plan), await learner.fit(weights, plan)];
    expect(tf.memory().numTensors).toBe(before);
    expect(flat(first.delta)).not.toEqual(flat(second.delta));
    expect(flat(first.delta)).not.toEqual(flat((await learner.fit(weights, config)).delta));
    expect(first.privacy).toEqual({ mechanism: 'poisson-sampled-gaussian', samplingRate: 0.25, noiseMultiplier: 1.1, steps: 8 });
    expect(first.numExamples).toBe(40);
  });

  it('clips the whole delta to the plan\'s update clip norm (DP-FedAvg), the plain delta scaled, and adds noise when asked', async () => {
    const learner = new Learner(spec, featureExamples(spec, data), 0, 9);
    const weights = initialWeights(spec, 1);
    const before = tf.memory().numTensors;
    const plain = await learner.fit(weights, config);
    expect(plain.clientLevel).toBeUndefined();
    expect(plain.metrics.loss).toEqual(expect.any(Number));
    const clipped = await learner.fit(weights, { ...config, updateClipNorm: 0.01 });
    expect(norm(clipped.delta)).toBeCloseTo(0.01, 6);
    expect(clipped.clientLevel).toEqual({ normBefore: expect.closeTo(norm(plain.delta), 5), clipFactor: expect.closeTo(0.01 / norm(plain.delta), 5), noiseStddev: 0 });
    flat(clipped.delta).forEach((v, i) => expect(v).toBeCloseTo(flat(plain.delta)[i] * (clipped.clientLevel?.clipFactor ?? NaN), 7));
    expect(clipped.metrics).toEqual({});
    expect(clipped.privacy).toBeUndefined();
    const within = await learner.fit(weights, { ...config, updateClipNorm: 1e6 });
    expect(within.delta).toEqual(plain.delta);
    const noisy = await learner.fit(weights, { ...config, updateClipNorm: 0.01, updateNoiseStddev: 0.5 });
    expect(noisy.clientLevel?.noiseStddev).toBe(0.5);
    expect(norm(noisy.delta)).toBeGreaterThan(10 * 0.01);
    expect(tf.memory().numTensors).toBe(before);
  });
});
