import * as tf from '@tensorflow/tfjs-core';
import { initialWeights, selectBackend, trainLocally } from '@fedtl/model';
import type { ModelSpec } from '@fedtl/protocol';
import { seededRandom } from '@fedtl/util';
import { Learner } from './learner';
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
    const learner = new Learner(spec, data, 4, 9);
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
    const learner = new Learner(spec, data, 0, 9);
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
    expect(() => new Learner(spec, odd, 0, 1)).toThrow(/"maybe" is not in the federation's label set/);
  });
});
