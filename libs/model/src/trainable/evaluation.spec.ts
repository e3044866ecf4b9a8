import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@fedtl/protocol';
import { AdapterHeadModel } from './adapter-head-model';
import { classificationMetrics, evaluate } from './evaluation';
import { initialWeights } from './trainable-spec';
import { gaussianClusters, specFor, useCpuBackend } from './test-support';

beforeAll(useCpuBackend);

describe('classificationMetrics', () => {
  it('computes accuracy, per-label counts and macro-F1 on a hand-worked case', () => {
    // label 0: support 2, predicted 2, tp 1 -> F1 = 2·1/(2+2) = 0.5
    // label 1: support 2, predicted 3, tp 2 -> F1 = 2·2/(2+3) = 0.8
    // label 2: support 1, predicted 0, tp 0 -> F1 = 0
    // label 3: neither true nor predicted -> left out of the macro average
    const result = classificationMetrics(Int32Array.of(0, 1, 1, 1, 0), Int32Array.of(0, 0, 1, 1, 2), 4);
    expect(result.accuracy).toBeCloseTo(3 / 5, 12);
    expect(result.macroF1).toBeCloseTo((0.5 + 0.8 + 0) / 3, 12);
    expect(result.perLabel).toEqual([
      { support: 2, correct: 1, predicted: 2, f1: 0.5 },
      { support: 2, correct: 2, predicted: 3, f1: 0.8 },
      { support: 1, correct: 0, predicted: 0, f1: 0 },
      { support: 0, correct: 0, predicted: 0, f1: null },
    ]);
  });

  it('counts a label that is predicted but never true with F1 = 0', () => {
    const result = classificationMetrics(Int32Array.of(0, 1), Int32Array.of(0, 0), 2);
    expect(result.perLabel[0].f1).toBeCloseTo(2 / 3, 12);
    expect(result.perLabel[1].f1).toBe(0);
    expect(result.macroF1).toBeCloseTo(1 / 3, 12);
    expect(result.accuracy).toBe(0.5);
  });

  it('is 1 for perfect predictions and NaN over no examples', () => {
    const perfect = classificationMetrics(Int32Array.of(2, 0, 1), Int32Array.of(2, 0, 1), 3);
    expect(perfect.accuracy).toBe(1);
    expect(perfect.macroF1).toBe(1);
    const empty = classificationMetrics(new Int32Array(0), new Int32Array(0), 3);
    expect(empty.accuracy).toBeNaN();
    expect(empty.macroF1).toBeNaN();
  });

  it('refuses mismatched lengths and out-of-range labels', () => {
    expect(() => classificationMetrics(Int32Array.of(0), Int32Array.of(0, 1), 2)).toThrow(RangeError);
    expect(() => classificationMetrics(Int32Array.of(2), Int32Array.of(0), 2)).toThrow(RangeError);
    expect(() => classificationMetrics(Int32Array.of(0), Int32Array.of(-1), 2)).toThrow(RangeError);
    expect(() => classificationMetrics(Int32Array.of(0), Int32Array.of(0), 0)).toThrow(RangeError);
  });
});

describe('evaluate', () => {
  it('reports accuracy, macro-F1, cross-entropy and per-label counts of hand-set weights', async () => {
    // No adapter, identity head: the logits are the features themselves, so the prediction is the larger one.
    const spec = specFor({ inputDim: 2, adapterWidth: 0, labels: ['ham', 'spam'] });
    const weights: NamedTensor[] = initialWeights(spec, 1).map((w) =>
      w.name === 'head/out/kernel' ? { ...w, data: Float32Array.of(1, 0, 0, 1) } : w,
    );
    const features = Float32Array.of(2, 0, 0, 1, 1, 3, 0, 0);
    const labels = Int32Array.of(0, 1, 0, 1);
    const before = tf.memory().numTensors;
    const result = await evaluate(spec, weights, { features, labels, n: 4 });
    expect(tf.memory().numTensors).toBe(before);

    // Predictions 0, 1, 1, 0 (a tie goes to the first label): rows 0 and 1 right.
    expect(result.numExamples).toBe(4);
    expect(result.metrics.accuracy).toBe(0.5);
    expect(result.metrics.macroF1).toBeCloseTo(0.5, 12);
    expect(result.perLabel).toEqual({ ham: { support: 2, correct: 1 }, spam: { support: 2, correct: 1 } });
    const logSoftmax = (a: number, b: number, pick: number) => [a, b][pick] - Math.log(Math.exp(a) + Math.exp(b));
    const expectedLoss = -(logSoftmax(2, 0, 0) + logSoftmax(0, 1, 1) + logSoftmax(1, 3, 0) + logSoftmax(0, 0, 1)) / 4;
    expect(result.metrics.loss).toBeCloseTo(expectedLoss, 5);
  });

  it('agrees with the model prediction and lists every label, even absent ones', async () => {
    const spec = specFor({ head: 'mlp', labels: ['a', 'b', 'c'] });
    const weights = initialWeights(spec, 9);
    const data = gaussianClusters(40, 16, 2, 3);
    const result = await evaluate(spec, weights, data);
    const model = new AdapterHeadModel(spec, weights);
    const predicted = await model.predict(data.features, data.n);
    model.dispose();
    const expected = classificationMetrics(predicted, data.labels, 3);
    expect(result.metrics.accuracy).toBe(expected.accuracy);
    expect(result.metrics.macroF1).toBe(expected.macroF1);
    expect(Object.keys(result.perLabel)).toEqual(['a', 'b', 'c']);
    expect(result.perLabel.c).toEqual({ support: 0, correct: 0 });
  });

  it('refuses empty or inconsistent data and bad weights with codes', async () => {
    const spec = specFor();
    const weights = initialWeights(spec, 1);
    const data = gaussianClusters(4, 16, 2, 1);
    const before = tf.memory().numTensors;
    await expect(evaluate(spec, weights, { ...data, n: 0 })).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_DATA' });
    const empty = { features: new Float32Array(0), labels: new Int32Array(0), n: 0 };
    await expect(evaluate(spec, weights, empty)).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_DATA' });
    await expect(evaluate(spec, weights, { ...data, labels: Int32Array.of(0, 1, 5, 0) })).rejects.toMatchObject({
      code: 'FEDTL_ERR_BAD_DATA',
    });
    await expect(evaluate(spec, weights.slice(1), data)).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_TENSOR_NAME' });
    expect(tf.memory().numTensors).toBe(before);
  });
});
