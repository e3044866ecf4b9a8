import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@fedtl/protocol';
import { seededRandom } from '@fedtl/util';
import { AdapterHeadModel } from './adapter-head-model';
import { initialWeights } from './trainable-spec';
import { gaussianClusters, specFor, useCpuBackend } from './test-support';

beforeAll(useCpuBackend);

function withData(weights: NamedTensor[], name: string, data: number[]): NamedTensor[] {
  return weights.map((w) => (w.name === name ? { ...w, data: Float32Array.from(data) } : w));
}

describe('AdapterHeadModel', () => {
  const spec = specFor({ labels: ['a', 'b', 'c'] });

  it('starts with the adapter as the identity (zero up-projection)', () => {
    const before = tf.memory().numTensors;
    const model = new AdapterHeadModel(spec, initialWeights(spec, 1));
    const { features } = gaussianClusters(10, 16, 3, 2);
    const x = tf.tensor2d(features, [10, 16]);
    const h = model.adapt(x);
    expect(h.dataSync()).toEqual(x.dataSync());
    tf.dispose([x, h]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('computes the residual adapter and linear head by the formula', () => {
    const tiny = specFor({ inputDim: 2, adapterWidth: 1, labels: ['a', 'b'] });
    let weights = initialWeights(tiny, 1);
    weights = withData(weights, 'adapter/down/kernel', [1, -1]);
    weights = withData(weights, 'adapter/down/bias', [0.5]);
    weights = withData(weights, 'adapter/up/kernel', [2, 3]);
    weights = withData(weights, 'adapter/up/bias', [0.1, 0.2]);
    weights = withData(weights, 'head/out/kernel', [1, 0, 0, 1]);
    weights = withData(weights, 'head/out/bias', [0, 1]);
    const model = new AdapterHeadModel(tiny, weights);
    // x = [3, 1]: down = relu(3 − 1 + 0.5) = 2.5; h = x + 2.5·[2, 3] + [0.1, 0.2] = [8.1, 8.7]; logits = h + [0, 1].
    // x = [0, 4]: down = relu(−4 + 0.5) = 0;     h = x + [0.1, 0.2] = [0.1, 4.2];              logits = [0.1, 5.2].
    const logits = tf.tidy(() => model.logits(tf.tensor2d([3, 1, 0, 4], [2, 2])).arraySync());
    const expected = [
      [8.1, 9.7],
      [0.1, 5.2],
    ];
    logits.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i][j], 5)));
    model.dispose();
  });

  it('computes an MLP head and works without an adapter', () => {
    const tiny = specFor({ inputDim: 2, adapterWidth: 0, head: 'mlp', headHidden: 2, labels: ['a', 'b'] });
    let weights = initialWeights(tiny, 1);
    weights = withData(weights, 'head/hidden/kernel', [1, 0, 0, -1]);
    weights = withData(weights, 'head/hidden/bias', [0, 1]);
    weights = withData(weights, 'head/out/kernel', [1, 2, 3, 4]);
    weights = withData(weights, 'head/out/bias', [0, 0]);
    const model = new AdapterHeadModel(tiny, weights);
    // x = [2, 0.5]: hidden = relu([2, −0.5 + 1]) = [2, 0.5]; logits = [2 + 1.5, 4 + 2] = [3.5, 6].
    const logits = tf.tidy(() => model.logits(tf.tensor2d([2, 0.5], [1, 2])).arraySync());
    expect(logits[0][0]).toBeCloseTo(3.5, 5);
    expect(logits[0][1]).toBeCloseTo(6, 5);
    model.dispose();
  });

  it('returns copies from getWeights and replaces all weights with setWeights', () => {
    const first = initialWeights(spec, 1);
    const second = initialWeights(spec, 2);
    const model = new AdapterHeadModel(spec, first);
    const got = model.getWeights();
    expect(got).toEqual(first);
    got[0].data[0] = 1234;
    expect(model.getWeights()[0].data[0]).toBe(first[0].data[0]);
    model.setWeights(second.slice().reverse());
    expect(model.getWeights()).toEqual(second);
    model.dispose();
  });

  it('checks the whole list in setWeights before changing anything', () => {
    const first = initialWeights(spec, 1);
    const model = new AdapterHeadModel(spec, first);
    const bad = initialWeights(spec, 2).map((w, i) => (i === 5 ? { ...w, shape: [1, 3] } : w));
    expect(() => model.setWeights(bad)).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_BAD_TENSOR_SHAPE' }));
    expect(() => model.setWeights(first.slice(1))).toThrow(
      expect.objectContaining({ code: 'FEDTL_ERR_BAD_TENSOR_NAME' }),
    );
    expect(model.getWeights()).toEqual(first);
    model.dispose();
  });

  it('predicts the argmax of the logits and leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const model = new AdapterHeadModel(spec, initialWeights(spec, 4));
    const { features } = gaussianClusters(30, 16, 3, 5);
    const predicted = await model.predict(features, 30);
    const expected = tf.tidy(() => tf.argMax(model.logits(tf.tensor2d(features, [30, 16])), 1).dataSync());
    expect(Array.from(predicted)).toEqual(Array.from(expected));
    await expect(model.predict(features, 29)).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_DATA' });
    model.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => model.getWeights()).toThrow('after dispose');
  });
});

describe('AdapterHeadModel.lossAndGradients', () => {
  /** Every weight drawn uniformly from [-0.5, 0.5], so no gradient is trivially zero. */
  function randomWeights(spec: ReturnType<typeof specFor>, seed: number): NamedTensor[] {
    const random = seededRandom(seed);
    return initialWeights(spec, seed).map((w) => ({ ...w, data: Float32Array.from(w.data, () => random() - 0.5) }));
  }

  it.each([
    ['adapter + linear head', specFor({ inputDim: 5, adapterWidth: 3, labels: ['a', 'b', 'c'] })],
    [
      'adapter + mlp head',
      specFor({ inputDim: 5, adapterWidth: 3, head: 'mlp', headHidden: 4, labels: ['a', 'b', 'c'] }),
    ],
    ['mlp head only', specFor({ inputDim: 5, adapterWidth: 0, head: 'mlp', headHidden: 4, labels: ['a', 'b'] })],
  ])('matches central finite differences (%s)', (_, spec) => {
    const weights = randomWeights(spec, 11);
    const model = new AdapterHeadModel(spec, weights);
    const data = gaussianClusters(6, 5, spec.labels.length, 12, 1);
    const x = tf.tensor2d(data.features, [6, 5]);
    const labels = tf.tensor1d(data.labels, 'int32');
    const lossAt = (changed: NamedTensor[]): number => {
      model.setWeights(changed);
      const step = model.lossAndGradients(x, labels);
      const value = step.loss.dataSync()[0];
      tf.dispose(step);
      return value;
    };
    const step = model.lossAndGradients(x, labels);
    const analytic = Object.fromEntries(
      Object.entries(step.gradients).map(([name, g]) => [name, g.dataSync().slice()]),
    );
    expect(step.loss.dataSync()[0]).toBeCloseTo(lossAt(weights), 6);
    tf.dispose(step);
    expect(Object.keys(analytic).sort()).toEqual(weights.map((w) => w.name).sort());

    const eps = 1e-2;
    for (const tensor of weights) {
      expect(analytic[tensor.name].length).toBe(tensor.data.length);
      for (const i of [0, Math.floor(tensor.data.length / 2), tensor.data.length - 1]) {
        const nudged = (by: number) =>
          weights.map((w) =>
            w.name === tensor.name ? { ...w, data: Float32Array.from(w.data, (v, j) => (j === i ? v + by : v)) } : w,
          );
        const numeric = (lossAt(nudged(eps)) - lossAt(nudged(-eps))) / (2 * eps);
        expect(Math.abs(analytic[tensor.name][i] - numeric)).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
      }
    }
    tf.dispose([x, labels]);
    model.dispose();
  });

  it('can be differentiated again with respect to its input (the gradient of a gradient, by finite differences)', () => {
    // The leakage audit's gradient matching needs d/dx of a function of these gradients; a hand-written backward
    // pass built from ops without gradients (tf.step) could not provide it.
    const spec = specFor({ inputDim: 4, adapterWidth: 3, head: 'mlp', headHidden: 3, labels: ['a', 'b'] });
    const model = new AdapterHeadModel(spec, randomWeights(spec, 5));
    const data = gaussianClusters(2, 4, 2, 6, 1);
    const labels = tf.tensor1d(data.labels, 'int32');
    const probe = (x: tf.Tensor2D): tf.Scalar => {
      const { loss, correct, gradients } = model.lossAndGradients(x, labels);
      const value = tf.add(tf.sum(tf.square(gradients['adapter/down/kernel'])), tf.sum(gradients['head/out/bias'])) as tf.Scalar;
      tf.dispose([loss, correct]);
      return value;
    };
    const x = tf.tensor2d(data.features, [2, 4]);
    const analytic = tf.grad((input: tf.Tensor) => probe(input as tf.Tensor2D))(x);
    const eps = 1e-2;
    const at = (i: number, by: number) =>
      tf.tidy(() => probe(tf.tensor2d(Float32Array.from(data.features, (v, j) => (j === i ? v + by : v)), [2, 4])).dataSync()[0]);
    const got = analytic.dataSync();
    for (let i = 0; i < data.features.length; i++) {
      const numeric = (at(i, eps) - at(i, -eps)) / (2 * eps);
      expect(Math.abs(got[i] - numeric)).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
    }
    expect(Math.max(...Array.from(got, Math.abs))).toBeGreaterThan(1e-4);
    tf.dispose([x, labels, analytic]);
    model.dispose();
  });

  it('counts correct rows and leaves nothing behind once its results are disposed', () => {
    const spec = specFor({ labels: ['a', 'b', 'c'] });
    const before = tf.memory().numTensors;
    const model = new AdapterHeadModel(spec, randomWeights(spec, 3));
    const data = gaussianClusters(12, 16, 3, 4);
    const x = tf.tensor2d(data.features, [12, 16]);
    const labels = tf.tensor1d(data.labels, 'int32');
    const step = model.lossAndGradients(x, labels);
    const predicted = tf.tidy(() => tf.argMax(model.logits(x), 1).dataSync());
    const expected = Array.from(predicted).filter((p, i) => p === data.labels[i]).length;
    expect(step.correct.dataSync()[0]).toBe(expected);
    tf.dispose(step);
    // Everything it returns belongs to the caller's scope: an enclosing tidy releases all of it.
    const inTidy = tf.memory().numTensors;
    tf.tidy(() => void model.lossAndGradients(x, labels));
    expect(tf.memory().numTensors).toBe(inTidy);
    tf.dispose([x, labels]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
