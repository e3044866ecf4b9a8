import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@fedtl/model';
import { TINY_SPEC, row, syntheticExamples, tinyUpdate } from './attack-fixtures';
import { dummyLabels, gradientMatchingAttack } from './gradient-matching';
import { cosine } from './recovery-metrics';

describe('gradient matching', () => {
  beforeAll(async () => {
    await selectBackend();
  });

  it('finds the one example of a plain SGD step to cosine > 0.99 and leaves no tensor behind', async () => {
    const data = syntheticExamples(1, TINY_SPEC.inputDim, 31);
    const observed = await tinyUpdate(data, { localEpochs: 1, batchSize: 1, learningRate: 0.01, optimizer: 'sgd' });
    expect(dummyLabels(observed, 1)).toEqual(Int32Array.from([data.labels[0]]));
    const before = tf.memory().numTensors;
    const result = await gradientMatchingAttack({ iterations: 300, learningRate: 0.05, maxDummies: 4, seed: 1 }).recover(observed);
    expect(tf.memory().numTensors).toBe(before);
    expect(result.vectors).toHaveLength(1);
    expect(cosine(result.vectors[0], row(data, 0, TINY_SPEC.inputDim))).toBeGreaterThan(0.99);
  });

  it('makes one dummy per declared example up to maxDummies, and refuses bad options', async () => {
    const data = syntheticExamples(6, TINY_SPEC.inputDim, 32);
    const observed = await tinyUpdate(data, { localEpochs: 1, batchSize: 6, learningRate: 0.01, optimizer: 'sgd' });
    const result = await gradientMatchingAttack({ iterations: 2, learningRate: 0.05, maxDummies: 4, seed: 1 }).recover(observed);
    expect(result.vectors).toHaveLength(4);
    expect(() => gradientMatchingAttack({ iterations: 0, learningRate: 0.05, maxDummies: 4, seed: 1 })).toThrow(/iterations must be an integer ≥ 1, got 0/);
  });
});
