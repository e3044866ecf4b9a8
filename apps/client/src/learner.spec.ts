import * as tf from '@tensorflow/tfjs-core';
import { initialWeights, selectBackend } from '@fedtl/model';
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

  it('refuses data whose labels the federation does not know', () => {
    const odd: LocalData = { ...data, train: { ...data.train, labels: data.train.labels.map((l, i) => (i === 5 ? 'maybe' : l)) } };
    expect(() => new Learner(spec, odd, 0, 1)).toThrow(/"maybe" is not in the federation's label set/);
  });
});
